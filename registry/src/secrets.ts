// Secrets the edge is given: read from files (never world-readable) and, for the admin token, a minimum strength.
import { readFile, stat } from 'node:fs/promises';
import { ConfigError } from '@bpfleet/sdk/errors';

export const MIN_ADMIN_TOKEN_LENGTH = 32;
/**
 * 32 random hex characters score ~115 by this estimate (1 in 100,000 below 82, the lowest of 100,000 at 70); a
 * repeated word, a pattern or a short alphabet scores under 70.
 */
export const MIN_ADMIN_TOKEN_BITS = 72;

/**
 * A deliberately rough strength estimate: the Shannon entropy of the token's own characters, times the number
 * of pieces left after every run of 3+ characters seen earlier counts as one piece (as LZ77 would code it).
 * A word, a repeated word or a pattern scores low; random text of 32+ characters scores far above the floor.
 */
export function estimateEntropyBits(token: string): number {
  const chars = [...token];
  const counts = new Map<string, number>();
  for (const ch of chars) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let perChar = 0;
  for (const count of counts.values()) perChar -= (count / chars.length) * Math.log2(count / chars.length);
  let pieces = 0;
  for (let i = 0; i < chars.length; pieces++) i += Math.max(1, longestEarlierMatch(chars, i));
  return perChar * pieces;
}

/** Length of the longest run starting at `i` that also starts earlier (overlapping allowed); 0 below 3. */
function longestEarlierMatch(chars: string[], i: number): number {
  let best = 0;
  for (let j = 0; j < i; j++) {
    let n = 0;
    while (i + n < chars.length && chars[j + n] === chars[i + n]) n++;
    best = Math.max(best, n);
  }
  return best >= 3 ? best : 0;
}

export function assertStrongAdminToken(token: string, context: string): void {
  const advice = 'use at least 32 random characters, e.g. `openssl rand -base64 32`';
  if (token.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new ConfigError(
      'ADMIN_TOKEN_WEAK',
      `${context}: the admin token has ${token.length} characters, fewer than ${MIN_ADMIN_TOKEN_LENGTH}; ${advice}`,
    );
  }
  const bits = estimateEntropyBits(token);
  if (bits < MIN_ADMIN_TOKEN_BITS) {
    throw new ConfigError(
      'ADMIN_TOKEN_WEAK',
      `${context}: the admin token has too little entropy (about ${Math.floor(bits)} bits, at least ${MIN_ADMIN_TOKEN_BITS} needed); ${advice}`,
    );
  }
}

/** A secret's file: its content without the trailing newline; refused when other users may read it. */
export async function readSecretFile(path: string, context: string): Promise<string> {
  let text: string;
  try {
    const info = await stat(path);
    if ((info.mode & 0o007) !== 0) {
      throw new ConfigError(
        'SECRET_FILE_PERMISSIONS',
        `${context} ${path}: readable by other users (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`,
      );
    }
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError('CONFIG_INVALID', `${context} ${path}: ${(err as Error).message}`, { cause: err });
  }
  const secret = text.replace(/\r?\n$/, '');
  if (!secret) throw new ConfigError('CONFIG_INVALID', `${context} ${path}: empty`);
  return secret;
}
