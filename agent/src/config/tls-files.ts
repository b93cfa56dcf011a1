// The agent's TLS files read once at start: the edge's CA and the device's certificate and key, for MQTT and HTTP.
import { readFile } from 'node:fs/promises';
import { type AgentConfig, ConfigKeyError, type TlsMaterial } from './agent-config.js';

/** Reads `config.tls` into `broker` (ca, cert, key) and `registry.tls`; an unreadable file names its key. */
export async function readTlsFiles(config: AgentConfig): Promise<void> {
  const files = config.tls;
  if (!files) return;
  const material: TlsMaterial = {};
  for (const field of ['ca', 'cert', 'key'] as const) {
    const path = files[field];
    if (path === undefined) continue;
    try {
      material[field] = await readFile(path, 'utf8');
    } catch (err) {
      throw new ConfigKeyError(`tls.${field}`, `cannot read ${path}: ${(err as Error).message}`);
    }
    if (!material[field]?.includes('-----BEGIN '))
      throw new ConfigKeyError(`tls.${field}`, `${path} is not PEM`);
  }
  config.registry.tls = material;
  // Inline PEM in broker.* (older configs) stays as given.
  config.broker.ca ??= material.ca;
  config.broker.cert ??= material.cert;
  config.broker.key ??= material.key;
}
