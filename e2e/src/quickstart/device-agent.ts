// The real bpfleet-agent for a local device: registered through the fleet API, trusting the edge key, the
// operator key, the registry key and the publisher key, run under nsenter in the device's network namespace.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrustedKey } from '@bpfleet/sdk/trust';
import { stringify } from 'yaml';
import { bundleAgent } from './agent-bundle.js';
import { type RunningProcess, spawnLogged } from './child-process.js';
import type { EdgeProcess } from './edge-process.js';
import type { LocalDeviceNetwork } from './local-device-network.js';
import { AGENT_BIN } from './workspace-paths.js';

export interface DeviceAgentOptions {
  deviceId: string;
  groups: string[];
  edge: EdgeProcess;
  adminToken: string;
  /** Operator keys besides the edge's own, and publisher keys per namespace. */
  operatorKeys: TrustedKey[];
  publishers: Record<string, TrustedKey[]>;
  network: LocalDeviceNetwork;
  /** Wiped at start: each run begins with a fresh device. */
  dataDir: string;
  pinRoot: string;
  logFile: string;
  telemetryIntervalSeconds: number;
  reconcileIntervalSeconds: number;
}

export interface DeviceAgent {
  process: RunningProcess;
  configPath: string;
  metricsUrl: string;
}

/** Forgets a device registered by an earlier run (its credentials and reports), if any. */
async function forgetDevice(edge: EdgeProcess, adminToken: string, id: string): Promise<void> {
  const res = await fetch(`${edge.url}/v1/fleet/devices/${encodeURIComponent(id)}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${adminToken}` },
  });
  if (!res.ok && res.status !== 404)
    throw new Error(`remove device ${id}: HTTP ${res.status} ${await res.text()}`);
}

export async function startDeviceAgent(o: DeviceAgentOptions): Promise<DeviceAgent> {
  await forgetDevice(o.edge, o.adminToken, o.deviceId);
  const device = await o.edge.fleet.registerDevice(o.deviceId, o.groups);
  const edgeKey = await o.edge.fleet.edgeKey();
  const registryKey = await o.edge.admin.getRegistryKey();
  await rm(o.dataDir, { recursive: true, force: true });
  await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  const pick = (k: TrustedKey) => ({ keyId: k.keyId, publicKeyPem: k.publicKeyPem });
  const metrics = { host: o.network.deviceAddr, port: 9465 };
  const config = {
    deviceId: o.deviceId,
    fleet: device.fleet,
    groups: o.groups,
    broker: { ...device.broker, keepaliveSeconds: 10 },
    registry: { url: o.edge.url },
    trust: {
      // The operator's key signs the policies it applies; the edge's signs rollout waves, only within them.
      operatorKeys: o.operatorKeys.map(pick),
      edgeKeys: [pick(edgeKey)],
      registryKeys: [pick(registryKey)],
      publishers: Object.fromEntries(Object.entries(o.publishers).map(([ns, keys]) => [ns, keys.map(pick)])),
    },
    dataDir: join(o.dataDir, 'state'),
    pinRoot: o.pinRoot,
    allow: { interfaces: [o.network.wan] },
    metrics,
    telemetryIntervalSeconds: o.telemetryIntervalSeconds,
    reconcileIntervalSeconds: o.reconcileIntervalSeconds,
  };
  const configPath = join(o.dataDir, 'agent.yaml');
  // It holds the device's broker password.
  await writeFile(
    configPath,
    `# bpfleet-agent config of the local device ${o.deviceId}\n${stringify(config)}`,
    {
      mode: 0o600,
    },
  );
  bundleAgent();
  const proc = spawnLogged({
    name: 'bpfleet-agent',
    command: 'nsenter',
    // Only the network namespace changes: bpffs (the pins) stays visible.
    args: [`--net=/run/netns/${o.network.deviceNs}`, AGENT_BIN, '--config', configPath],
    logFile: o.logFile,
    env: { BPFLEET_NODE: process.execPath },
  });
  return { process: proc, configPath, metricsUrl: `http://${metrics.host}:${metrics.port}/metrics` };
}
