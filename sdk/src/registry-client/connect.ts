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
  return new RegistryClient(token ? { url: resolved.url, token } : { url: resolved.url });
}
