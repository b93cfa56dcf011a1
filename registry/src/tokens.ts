// Bearer tokens: random secrets handed out once, stored only as their sha256.
import { createHash, randomBytes } from 'node:crypto';

export const ADMIN_TOKEN_PREFIX = 'bpfa_';
export const PUBLISH_TOKEN_PREFIX = 'bpfp_';

export function generateToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export function generateTokenId(): string {
  return `tok_${randomBytes(9).toString('base64url')}`;
}

/** Tokens carry 256 random bits, so a fast hash is enough: there is nothing to brute-force. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
