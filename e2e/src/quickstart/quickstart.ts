// `npm start`: the edge, the sample programs published, a local device running the real agent with traffic,
// a signed group policy, then the live view until Ctrl-C (or until ready, with --exit-when-ready).
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CleanupStack } from './cleanup-stack.js';
import { DEV_KEY_WARNING } from './dev-keys.js';
import { type Environment, type EnvironmentProfile, setUpEnvironment } from './environment.js';
import { startLiveView } from './live-view.js';
import { applySignedPolicy } from './operator-policy.js';
import { libraryPackages, preparePublisher, publishSigned, readArchive, signArchive } from './publishing.js';
import { createReadiness } from './readiness.js';
import { startPingSource } from './traffic.js';
import { BPF_PROGRAMS } from './workspace-paths.js';

/**
 * The quickstart's names. A numbered instance (1-3) gets its own folder, namespaces and addresses, so the
 * test of `npm start` never touches a quickstart the user has running.
 */
export function quickstartProfile(instance?: number): EnvironmentProfile {
  const n = instance ?? '';
  return {
    name: `quickstart${instance ? `-${n}` : ''}`,
    network: {
      deviceNs: `bpfleet-qs${n}-dev`,
      peerNs: `bpfleet-qs${n}-peer`,
      uplink: `bpfleet-qs${n}-up`,
      octet: instance ? 251 + instance : 250,
    },
    fleet: 'quickstart',
    deviceId: 'qs-device-1',
    groups: ['gateways'],
    pinRoot: `/sys/fs/bpf/bpfleet-quickstart${instance ? `-${n}` : ''}`,
    httpPort: 8080,
    brokerPort: 1883,
    freshEdge: false,
    namespaces: ['bpfleet'],
    telemetryIntervalSeconds: 2,
    reconcileIntervalSeconds: 5,
  };
}

const CHANNEL = 'stable';
const DEPLOYMENT = 'firewall';

export interface QuickstartOptions {
  profile: EnvironmentProfile;
  exitWhenReady: boolean;
  readyTimeoutMs: number;
  redraw: boolean;
  columns?: number;
  write: (text: string) => void;
  cleanup: CleanupStack;
  /** Resolves when the user asks to stop (SIGINT/SIGTERM). */
  stopRequested: Promise<string>;
}

/** Signs every library package with the dev publisher key and publishes it on `stable`. */
async function publishLibrary(env: Environment, say: (line: string) => void): Promise<string[]> {
  const files = await libraryPackages(BPF_PROGRAMS);
  if (files.length === 0) throw new Error(`no packages under ${BPF_PROGRAMS}/*/build: run npm run build:bpf`);
  const published: string[] = [];
  for (const file of files) {
    const pkg = await signArchive(await readArchive(file), env.keys.publisher.key);
    const client = await preparePublisher(env.edge.admin, pkg.namespace, env.keys.publisher.key.publicKeyPem);
    const outcome = await publishSigned(client, pkg, CHANNEL, env.keys.publisher.key);
    const id = `${pkg.namespace}/${pkg.name}@${pkg.version}`;
    say(`${outcome} ${id} (${pkg.digest.slice(0, 19)}…) on channel ${CHANNEL}`);
    published.push(id);
  }
  return published;
}

export async function runQuickstart(o: QuickstartOptions): Promise<number> {
  const say = (line: string) => o.write(`${line}\n`);
  const { profile } = o;
  say('bpfleet quickstart: the operator edge and a local device on this machine');
  const env = await setUpEnvironment(profile, o.cleanup, say);
  say(`warning: ${DEV_KEY_WARNING}`);
  await publishLibrary(env, say);

  const ping = startPingSource(
    env.network.peerNs,
    env.network.wanAddr,
    0.2,
    join(env.paths.root, 'traffic.log'),
  );
  await env.pids.add(ping.pid, env.network.wanAddr);
  o.cleanup.push('stop the traffic source', async () => {
    await ping.stop();
  });

  const target = { group: profile.groups[0]! };
  const { serial } = await applySignedPolicy(env.edge.fleet, env.keys.operator.key, profile.fleet, target, [
    {
      id: DEPLOYMENT,
      package: 'bpfleet/xdp-firewall',
      channel: CHANNEL,
      attach: { interface: env.network.wan },
    },
  ]);
  say('');
  say(`registry      ${env.edge.url}   (admin token: ${env.adminToken})`);
  say(`console       ${env.edge.url}/console   (sign in with the admin token)`);
  say(`mqtt broker   ${env.edge.brokerUrl}   (fleet ${profile.fleet})`);
  say(`data          ${env.paths.root}   (edge.log, agent.log, traffic.log)`);
  say(
    `keys          ${env.keys.publisher.privateKeyPath}, ${env.keys.operator.privateKeyPath}   (development keys)`,
  );
  say(
    `device        ${profile.deviceId} in namespace ${env.network.deviceNs} (${env.network.wan} ${env.network.wanAddr}, metrics ${env.agent.metricsUrl})`,
  );
  say(`traffic       ping every 0.2 s from ${env.network.peerNs} (${env.network.peerAddr})`);
  say(
    `policy        group ${target.group} serial ${serial}: ${DEPLOYMENT} = bpfleet/xdp-firewall#${CHANNEL} on ${env.network.wan}`,
  );
  say(
    `try           npx --no-install bpfleet fleet status --registry ${env.edge.url} --token ${env.adminToken}`,
  );
  say(o.exitWhenReady ? '' : 'Ctrl-C stops everything and removes what it created.');
  say('');

  const readiness = createReadiness(profile.deviceId, DEPLOYMENT);
  let becameReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    becameReady = resolve;
  });
  const view = startLiveView({
    fleet: env.edge.fleet,
    intervalMs: 2000,
    redraw: o.redraw,
    columns: o.columns,
    write: o.write,
    header: o.redraw
      ? () => `fleet ${profile.fleet} at ${new Date().toISOString().slice(11, 19)}`
      : undefined,
    onDevices: (devices) => {
      if (readiness.observe(devices)) becameReady();
    },
  });
  o.cleanup.push('stop the live view', () => view.stop());
  const died = Promise.race([
    env.edge.process.exited.then((c) => `bpfleet-edge exited (${c}): see ${env.paths.root}/edge.log`),
    env.agent.process.exited.then((c) => `bpfleet-agent exited (${c}): see ${env.paths.root}/agent.log`),
  ]);
  if (!o.exitWhenReady) {
    const why = await Promise.race([
      o.stopRequested.then((s) => ({ stop: s })),
      died.then((d) => ({ died: d })),
    ]);
    if ('died' in why) {
      say(`bpfleet quickstart: ${why.died}`);
      return 1;
    }
    say(`\n${why.stop}: stopping everything started and removing the namespaces and pins`);
    return 0;
  }
  const timeout = sleep(o.readyTimeoutMs).then(() => 'timeout' as const);
  const outcome = await Promise.race([ready.then(() => 'ready' as const), timeout, died, o.stopRequested]);
  if (outcome === 'ready') {
    say(`ready: ${DEPLOYMENT} ATTACHED on ${profile.deviceId} and counting; cleaning up`);
    return 0;
  }
  const reason =
    outcome === 'timeout' ? `not ready after ${o.readyTimeoutMs / 1000} s: ${readiness.missing()}` : outcome;
  say(`bpfleet quickstart: ${reason}`);
  return 1;
}
