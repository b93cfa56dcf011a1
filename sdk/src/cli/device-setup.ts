// What `bpfleet fleet register` hands a device: its key made here (never sent), its certificate, and a complete
// agent config (broker, registry, TLS files, trust, fleet, state dir) that bpfleet-agent loads as it is.
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { ConfigError } from '../errors.js';

export interface DeviceKey {
  publicKeyPem: string;
  privateKeyPem: string;
}

/** An ECDSA P-256 key for the device's client certificate. */
export function createDeviceKey(): DeviceKey {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

export interface TrustKey {
  keyId: string;
  publicKeyPem: string;
}

export interface AgentConfigInput {
  deviceId: string;
  fleet: string;
  groups: string[];
  broker: { url: string; username: string; password?: string };
  registryUrl: string;
  /** Paths as the device will see them. */
  tls?: { ca?: string; cert?: string; key?: string };
  trust: { operatorKeys: TrustKey[]; registryKeys: TrustKey[]; publishers: Record<string, TrustKey[]> };
  dataDir: string;
  allowInterfaces: string[];
}

/** The agent's config as an object in its own schema (agent/src/config/agent-config.ts). */
export function agentConfigFor(o: AgentConfigInput): Record<string, unknown> {
  return {
    deviceId: o.deviceId,
    fleet: o.fleet,
    groups: o.groups,
    broker: {
      url: o.broker.url,
      username: o.broker.username,
      ...(o.broker.password !== undefined && { password: o.broker.password }),
    },
    registry: { url: o.registryUrl },
    ...(o.tls && Object.keys(o.tls).length > 0 && { tls: o.tls }),
    trust: o.trust,
    dataDir: o.dataDir,
    allow: { interfaces: o.allowInterfaces },
  };
}

export function renderAgentConfig(config: Record<string, unknown>, deviceId: string): string {
  return `# bpfleet-agent config for ${deviceId}, written by bpfleet fleet register\n${stringify(config)}`;
}

/** Files are written once: an existing device key is never overwritten (a second register would orphan it). */
export async function writeDeviceFile(path: string, content: string, mode = 0o644): Promise<void> {
  try {
    await writeFile(path, content, { mode, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ConfigError('FILE_EXISTS', `${path}: exists; remove it or choose another --out-dir`, {
        cause: err,
      });
    }
    throw err;
  }
}

export interface DeviceFiles {
  /** Where they are on this machine. */
  dir: string;
  /** The same files as the device sees them (--device-dir), for the config. */
  tls: { ca?: string; cert?: string; key?: string };
}

/** Writes the device's key (0600), certificate and the CA it trusts the edge with into `outDir`. */
export async function writeDeviceFiles(
  outDir: string,
  deviceDir: string | undefined,
  files: { key?: string; cert?: string; serverCaFile?: string },
): Promise<DeviceFiles> {
  const dir = resolve(outDir);
  const seen = deviceDir ?? dir;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tls: DeviceFiles['tls'] = {};
  if (files.serverCaFile) {
    await writeDeviceFile(join(dir, 'server-ca.crt'), await readFile(files.serverCaFile, 'utf8'));
    tls.ca = join(seen, 'server-ca.crt');
  }
  if (files.cert && files.key) {
    await writeDeviceFile(join(dir, 'device.key'), files.key, 0o600);
    await writeDeviceFile(join(dir, 'device.crt'), files.cert);
    tls.cert = join(seen, 'device.crt');
    tls.key = join(seen, 'device.key');
  }
  return { dir, tls };
}
