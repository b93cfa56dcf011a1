// Everything a run needs below the story: leftovers of a crashed run removed, dev keys, the device network,
// the edge, the device's agent. Each part registers its undo on the cleanup stack as soon as it exists.
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrustedKey } from '@bpfleet/sdk/trust';
import { PidFile } from './child-process.js';
import type { CleanupStack } from './cleanup-stack.js';
import { type DevKeys, loadOrCreateDevKeys } from './dev-keys.js';
import { type DeviceAgent, startDeviceAgent } from './device-agent.js';
import { type EdgeProcess, newAdminToken, startEdge } from './edge-process.js';
import {
  createLocalDeviceNetwork,
  type LocalDeviceNetwork,
  type NetworkNames,
  networkExists,
  removeNetwork,
} from './local-device-network.js';
import { AGENT_MAIN, EDGE_MAIN, type StatePaths, statePaths } from './workspace-paths.js';

export interface EnvironmentProfile {
  /** `.bpfleet/<name>` holds this run's state. */
  name: string;
  network: NetworkNames;
  fleet: string;
  deviceId: string;
  groups: string[];
  pinRoot: string;
  /** Wanted ports (0: any free one). */
  httpPort: number;
  brokerPort: number;
  /** Start from an empty edge (the demo), or keep what earlier runs published (the quickstart). */
  freshEdge: boolean;
  /** Namespaces whose packages the device accepts when signed with the dev publisher key. */
  namespaces: string[];
  telemetryIntervalSeconds: number;
  reconcileIntervalSeconds: number;
}

export interface Environment {
  paths: StatePaths;
  keys: DevKeys;
  network: LocalDeviceNetwork;
  edge: EdgeProcess;
  adminToken: string;
  agent: DeviceAgent;
  pids: PidFile;
}

const trusted = (k: { key: TrustedKey }): TrustedKey => ({
  keyId: k.key.keyId,
  publicKeyPem: k.key.publicKeyPem,
});

/** The admin token, made once per data folder and kept beside it (mode 0600), so the console URL stays valid. */
async function adminToken(root: string): Promise<string> {
  const path = join(root, 'admin-token');
  const existing = await readFile(path, 'utf8').catch(() => '');
  if (existing.trim()) return existing.trim();
  const token = newAdminToken();
  await writeFile(path, `${token}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return token;
}

/** Ends processes, pins and namespaces an earlier run of this profile left behind (it crashed or was killed). */
async function removeLeftovers(profile: EnvironmentProfile, pids: PidFile, say: (line: string) => void) {
  const ended = await pids.reapStale();
  if (ended.length > 0) say(`ended processes left by an earlier run: ${ended.join(', ')}`);
  if (networkExists(profile.network)) {
    say(
      `removed the namespaces left by an earlier run (${profile.network.deviceNs}, ${profile.network.peerNs})`,
    );
  }
  removeNetwork(profile.network);
  await rm(profile.pinRoot, { recursive: true, force: true });
}

export async function setUpEnvironment(
  profile: EnvironmentProfile,
  cleanup: CleanupStack,
  say: (line: string) => void,
): Promise<Environment> {
  const paths = statePaths(profile.name);
  await mkdir(paths.root, { recursive: true, mode: 0o700 });
  const pids = new PidFile(join(paths.root, 'pids.json'));
  await removeLeftovers(profile, pids, say);
  if (profile.freshEdge) await rm(paths.edgeData, { recursive: true, force: true });
  await pids.add(process.pid, process.argv[1] ?? 'node', true);
  cleanup.push('forget recorded pids', () => pids.clear());

  const keys = await loadOrCreateDevKeys(paths.keys);
  if (keys.created.length > 0) say(`made development keys ${keys.created.join(', ')} in ${paths.keys}`);

  const network = createLocalDeviceNetwork(profile.network);
  cleanup.push(`remove namespaces ${network.deviceNs}, ${network.peerNs}`, () => network.remove());

  const token = await adminToken(paths.root);
  const edge = await startEdge({
    dataDir: paths.edgeData,
    host: network.edgeAddr,
    port: profile.httpPort,
    brokerPort: profile.brokerPort,
    fleet: profile.fleet,
    adminToken: token,
    operatorKeyFiles: [keys.operator.publicKeyPath],
    logFile: join(paths.root, 'edge.log'),
  });
  await pids.add(edge.process.pid, EDGE_MAIN);
  cleanup.push('stop bpfleet-edge', async () => {
    await edge.process.stop();
  });

  // Registered after the agent stops (LIFO): removing the pins detaches what it attached.
  cleanup.push(`remove pins ${profile.pinRoot}`, () => rm(profile.pinRoot, { recursive: true, force: true }));
  const agent = await startDeviceAgent({
    deviceId: profile.deviceId,
    groups: profile.groups,
    edge,
    adminToken: token,
    operatorKeys: [trusted(keys.operator)],
    publishers: Object.fromEntries(profile.namespaces.map((ns) => [ns, [trusted(keys.publisher)]])),
    network,
    dataDir: paths.agentData,
    pinRoot: profile.pinRoot,
    logFile: join(paths.root, 'agent.log'),
    telemetryIntervalSeconds: profile.telemetryIntervalSeconds,
    reconcileIntervalSeconds: profile.reconcileIntervalSeconds,
  });
  await pids.add(agent.process.pid, AGENT_MAIN);
  cleanup.push('stop bpfleet-agent', async () => {
    await agent.process.stop();
  });
  return { paths, keys, network, edge, adminToken: token, agent, pids };
}
