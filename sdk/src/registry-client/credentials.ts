// The credentials file (~/.config/bpfleet/credentials.json, mode 0600): registry URL and tokens; env overrides it.
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError } from '../errors.js';

export interface RegistryCredentials {
  token?: string;
  adminToken?: string;
}

export interface CredentialsFile {
  /** The default registry URL. */
  registry?: string;
  /** Tokens per registry URL. */
  registries: Record<string, RegistryCredentials>;
}

export interface ResolvedRegistry {
  url: string;
  token?: string;
  adminToken?: string;
  /** Registries the credentials file holds tokens for (to say so when this one has none). */
  savedFor?: string[];
}

type Env = Record<string, string | undefined>;

export function credentialsPath(env: Env = process.env): string {
  if (env.BPFLEET_CREDENTIALS) return env.BPFLEET_CREDENTIALS;
  const config = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(config, 'bpfleet', 'credentials.json');
}

export async function readCredentials(path: string): Promise<CredentialsFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { registries: {} };
    throw new ConfigError('CREDENTIALS_UNREADABLE', `credentials ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('CREDENTIALS_INVALID', `credentials ${path}: not JSON`, { cause: err });
  }
  const file = value as Partial<CredentialsFile>;
  if (
    typeof value !== 'object' ||
    value === null ||
    (file.registry !== undefined && typeof file.registry !== 'string')
  ) {
    throw new ConfigError('CREDENTIALS_INVALID', `credentials ${path}: expected { registry, registries }`);
  }
  return { registry: file.registry, registries: file.registries ?? {} };
}

/** Writes atomically with mode 0600: the file holds secrets. */
export async function writeCredentials(path: string, file: CredentialsFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** Flag beats environment (BPFLEET_REGISTRY, BPFLEET_TOKEN, BPFLEET_ADMIN_TOKEN) beats the file. */
export async function resolveRegistry(
  flags: { registry?: string; token?: string },
  env: Env = process.env,
): Promise<ResolvedRegistry> {
  const file = await readCredentials(credentialsPath(env));
  const url = (flags.registry ?? env.BPFLEET_REGISTRY ?? file.registry)?.replace(/\/+$/, '');
  if (!url) {
    throw new ConfigError(
      'REGISTRY_UNSET',
      'registry: no URL (use --registry, BPFLEET_REGISTRY or bpfleet login)',
    );
  }
  const saved = file.registries[url] ?? {};
  const resolved: ResolvedRegistry = { url, savedFor: Object.keys(file.registries) };
  const token = flags.token ?? env.BPFLEET_TOKEN ?? saved.token;
  const adminToken = env.BPFLEET_ADMIN_TOKEN ?? saved.adminToken;
  if (token) resolved.token = token;
  if (adminToken) resolved.adminToken = adminToken;
  return resolved;
}
