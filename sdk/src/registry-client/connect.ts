// Builds a client from flags, environment and the credentials file (what the CLI commands share).
import { resolveRegistry } from './credentials.js';
import { RegistryClient } from './registry-client.js';

export interface ConnectFlags {
  registry?: string;
  token?: string;
}

/** `role: 'admin'` prefers the admin token; publishing, channels and yank use the publish token, else the admin one. */
export async function connectRegistry(
  flags: ConnectFlags,
  role: 'read' | 'publish' | 'admin' = 'read',
  env: Record<string, string | undefined> = process.env,
): Promise<RegistryClient> {
  const resolved = await resolveRegistry(flags, env);
  const token =
    role === 'admin'
      ? (flags.token ?? resolved.adminToken ?? resolved.token)
      : (resolved.token ?? resolved.adminToken);
  if (token) return new RegistryClient({ url: resolved.url, token });
  const others = (resolved.savedFor ?? []).filter((u) => u !== resolved.url);
  const flag = role === 'admin' ? ' --admin' : '';
  const hint =
    `no ${role === 'admin' ? 'admin' : 'publish'} token for ${resolved.url}` +
    (others.length ? ` (tokens are saved for ${others.join(', ')}: is --registry right?)` : '') +
    `; run \`bpfleet login --registry ${resolved.url}${flag} --token …\` or pass --token`;
  return new RegistryClient({ url: resolved.url, missingTokenHint: hint });
}
