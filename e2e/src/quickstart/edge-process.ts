// The operator edge (bpfleet-edge: registry, fleet API, embedded broker) as a real process on the uplink address.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createRegistryClient, FleetClient, type RegistryClient } from '@bpfleet/sdk/registry-client';
import { type RunningProcess, spawnLogged } from './child-process.js';
import { EDGE_MAIN } from './workspace-paths.js';

export interface EdgeOptions {
  dataDir: string;
  /** An address of this namespace (the device uplink's end), never 0.0.0.0. */
  host: string;
  /** Wanted ports: used when free on `host`, else the edge picks free ones. */
  port: number;
  brokerPort: number;
  fleet: string;
  adminToken: string;
  operatorKeyFiles: string[];
  logFile: string;
}

export interface EdgeProcess {
  process: RunningProcess;
  url: string;
  brokerUrl: string;
  admin: RegistryClient;
  fleet: FleetClient;
}

export const newAdminToken = () => `bpfa_${randomBytes(24).toString('hex')}`;

/** Whether a TCP port can be bound on `host` now. */
export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export async function startEdge(o: EdgeOptions): Promise<EdgeProcess> {
  await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  const port = (await portFree(o.host, o.port)) ? o.port : 0;
  const brokerPort = (await portFree(o.host, o.brokerPort)) ? o.brokerPort : 0;
  let out = '';
  let announced: (v: { url: string; brokerUrl: string }) => void = () => {};
  const ready = new Promise<{ url: string; brokerUrl: string }>((resolve) => {
    announced = resolve;
  });
  const args = ['--data-dir', o.dataDir, '--host', o.host, '--port', String(port)];
  args.push('--broker-port', String(brokerPort), '--fleet', o.fleet);
  for (const key of o.operatorKeyFiles) args.push('--operator-key', key);
  const proc = spawnLogged({
    name: 'bpfleet-edge',
    command: process.execPath,
    args: [EDGE_MAIN, ...args],
    logFile: o.logFile,
    env: { BPFLEET_EDGE_ADMIN_TOKEN: o.adminToken },
    onStdout: (text) => {
      out += text;
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      const brokerUrl = /mqtt broker (mqtt:\/\/\S+)/.exec(out)?.[1];
      if (url && brokerUrl) announced({ url, brokerUrl });
    },
  });
  const failed = proc.exited.then((code) => {
    throw new Error(`bpfleet-edge exited (${code}) before listening: see ${o.logFile}`);
  });
  try {
    const { url, brokerUrl } = await Promise.race([ready, failed]);
    const admin = createRegistryClient({ url, token: o.adminToken });
    return { process: proc, url, brokerUrl, admin, fleet: new FleetClient(admin) };
  } catch (err) {
    await proc.stop();
    throw err;
  }
}

export const edgeLogFile = (root: string) => join(root, 'edge.log');
