// `npm run demo`: the whole story on real processes and the real kernel, each step said in plain words:
// publish → attached → counted → upgrade with no packet lost → tampered package refused → verifier-rejected
// version rolled back while the old one keeps counting → the final status.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { moveChannel } from '@bpfleet/sdk/registry-client';
import { linksRunning, xdpPrograms } from '../fixtures/kernel-state.js';
import type { CleanupStack } from './cleanup-stack.js';
import { compileDemoProgram, countPackage } from './demo-packages.js';
import { counter, deviceView, waitForDevice } from './device-watch.js';
import { type EnvironmentProfile, setUpEnvironment } from './environment.js';
import { fleetTable } from './fleet-view.js';
import { applySignedPolicy } from './operator-policy.js';
import { preparePublisher, publishSigned, signArchive } from './publishing.js';
import { pingCount, startCountedPing } from './traffic.js';

export const DEMO_PROFILE: EnvironmentProfile = {
  name: 'demo',
  network: {
    deviceNs: 'bpfleet-demo-dev',
    peerNs: 'bpfleet-demo-peer',
    uplink: 'bpfleet-demo-up',
    octet: 251,
  },
  fleet: 'demo',
  deviceId: 'demo-device-1',
  groups: ['lab'],
  pinRoot: '/sys/fs/bpf/bpfleet-demo',
  httpPort: 0,
  brokerPort: 0,
  freshEdge: true,
  namespaces: ['acme'],
  telemetryIntervalSeconds: 1,
  reconcileIntervalSeconds: 1,
};

const ID = 'count';
const PACKETS = 'packets{slot=0}';
const BUILD = 'packets{slot=1}';

export interface DemoOptions {
  write: (text: string) => void;
  cleanup: CleanupStack;
}

function expect(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

export async function runDemo(o: DemoOptions): Promise<number> {
  let step = 0;
  const say = (line: string) => o.write(`${line}\n`);
  const title = (line: string) => say(`\n${++step}. ${line}`);
  const profile = DEMO_PROFILE;
  say('bpfleet demo: an edge and one device on this machine, everything real (processes, kernel, packets)');
  const counting = await compileDemoProgram('xdp_count');
  const rejected = await compileDemoProgram('xdp_rejected');
  const env = await setUpEnvironment(profile, o.cleanup, (l) => say(`   ${l}`));
  const { fleet } = env.edge;
  const device = profile.deviceId;
  say(
    `   edge ${env.edge.url} (broker ${env.edge.brokerUrl}), device ${device} in namespace ${env.network.deviceNs}`,
  );

  const publisher = await preparePublisher(env.edge.admin, 'acme', env.keys.publisher.key.publicKeyPem);
  const release = async (version: string, build: number, object: Buffer, channel = true) => {
    const pkg = await signArchive(await countPackage(version, build, object), env.keys.publisher.key);
    await publishSigned(publisher, pkg, channel ? 'stable' : undefined, env.keys.publisher.key);
    return pkg;
  };
  const counted = async (expected: number, what: string) =>
    waitForDevice(fleet, device, ID, what, (d) => counter(d, ID, PACKETS) === expected, 10_000);

  title(
    'Publish acme/count 1.0.0 (counts ICMP packets on its interface), signed with the dev publisher key, on channel stable',
  );
  const v1 = await release('1.0.0', 1, counting);
  say(`   published ${v1.digest}`);

  title(
    `Apply a policy signed with the dev operator key: device ${device} runs acme/count#stable on ${env.network.wan}`,
  );
  const { serial } = await applySignedPolicy(fleet, env.keys.operator.key, profile.fleet, { device }, [
    { id: ID, package: 'acme/count', channel: 'stable', attach: { interface: env.network.wan } },
  ]);
  say(`   the edge verified it and published it (serial ${serial})`);
  await waitForDevice(
    fleet,
    device,
    ID,
    '1.0.0 ATTACHED',
    (_, p) => p?.status === 'ATTACHED' && p.version === '1.0.0',
  );
  const progV1 = xdpPrograms(env.network.deviceNs, env.network.wan);
  expect(
    progV1.length === 1,
    `expected one XDP program on ${env.network.wan}, the kernel shows ${progV1.length}`,
  );
  say(`   the device fetched, verified and attached 1.0.0: XDP program ${progV1[0]} on ${env.network.wan}`);

  title('Send 20 pings from the peer namespace and read the counter from the device telemetry');
  const first = await pingCount(env.network.peerNs, env.network.wanAddr, 20);
  expect(first.received === first.sent, `${first.sent - first.received} of ${first.sent} pings lost`);
  await counted(first.sent, `${first.sent} packets counted`);
  say(`   ${first.sent} pings sent, ${first.sent} counted by 1.0.0`);

  title('Publish 1.1.0 and move channel stable to it while pings flow every 5 ms');
  const ping = startCountedPing(env.network.peerNs, env.network.wanAddr, 0.005);
  await sleep(300);
  const v11 = await release('1.1.0', 2, counting);
  say(`   published ${v11.digest}; the device follows the channel`);
  await waitForDevice(
    fleet,
    device,
    ID,
    '1.1.0 ATTACHED',
    (_, p) => p?.status === 'ATTACHED' && p.version === '1.1.0',
  );
  await sleep(300);
  const during = await ping.stop();
  expect(
    during.received === during.sent,
    `${during.sent - during.received} of ${during.sent} pings lost across the upgrade`,
  );
  const total = first.sent + during.sent;
  await counted(total, `every packet counted across the swap (${total})`).catch((err: Error) => {
    throw new Error(`counter delta across the swap differs from pings sent: ${err.message}`);
  });
  const afterSwap = await deviceView(fleet, device);
  expect(
    afterSwap !== undefined && counter(afterSwap, ID, BUILD) === 2,
    'the counting build is not 1.1.0 (build 2)',
  );
  const progV11 = xdpPrograms(env.network.deviceNs, env.network.wan);
  expect(progV11.length === 1 && progV11[0] !== progV1[0], `expected one new XDP program, got ${progV11}`);
  expect(linksRunning(progV11[0]!) === 1, `expected one link running program ${progV11[0]}`);
  say(`   upgraded in place (program ${progV1[0]} → ${progV11[0]}, same link, counter map kept)`);
  say(
    `   ${during.sent} pings sent during the upgrade, ${during.received} answered, counter rose by ${during.sent}: no packet lost`,
  );

  title(
    "Publish 1.2.0, then tamper with its bytes on the registry's disk (as a compromised disk or mirror would)",
  );
  const tampered = await release('1.2.0', 3, counting, false);
  const blobPath = join(env.paths.edgeData, 'blobs', 'sha256', tampered.digest.replace(/^sha256:/, ''));
  const blob = await readFile(blobPath);
  blob[blob.length - 9] = (blob[blob.length - 9] ?? 0) ^ 0xff;
  await writeFile(blobPath, blob);
  await moveChannel(
    publisher,
    env.keys.publisher.key,
    { namespace: 'acme', name: 'count' },
    'stable',
    '1.2.0',
  );
  const refused = await waitForDevice(fleet, device, ID, 'the tampered package refused', (_, p) =>
    ['DIGEST_MISMATCH', 'SIGNATURE_INVALID'].includes(p?.lastError?.code ?? ''),
  );
  const refusal = refused.programs.find((p) => p.id === ID);
  expect(
    refusal?.version === '1.1.0',
    `expected 1.1.0 still running, the device reports ${refusal?.version}`,
  );
  say(`   refused by the device: ${refusal?.lastError?.code}: ${refusal?.lastError?.message}`);
  say('   1.1.0 keeps running');

  title('Publish 1.3.0, a build the kernel verifier rejects (it reads past the packet), on channel stable');
  await release('1.3.0', 4, rejected);
  const rolledBack = await waitForDevice(
    fleet,
    device,
    ID,
    '1.3.0 rolled back',
    (_, p) => p?.status === 'ROLLED_BACK' && p.lastError?.code === 'VERIFIER_REJECTED',
  );
  const rb = rolledBack.programs.find((p) => p.id === ID);
  expect(rb?.version === '1.1.0', `expected 1.1.0 after the rollback, the device reports ${rb?.version}`);
  say(`   ${rb?.status}: ${rb?.lastError?.code}: ${rb?.lastError?.message.split('\n')[0]}`);
  const progAfter = xdpPrograms(env.network.deviceNs, env.network.wan);
  expect(
    progAfter.length === 1 && progAfter[0] === progV11[0],
    `expected program ${progV11[0]} still attached, got ${progAfter}`,
  );
  const last = await pingCount(env.network.peerNs, env.network.wanAddr, 10);
  await counted(total + last.sent, 'the old version still counting');
  const stillCounting = await deviceView(fleet, device);
  expect(
    stillCounting !== undefined && counter(stillCounting, ID, BUILD) === 2,
    'the counting build is not 1.1.0',
  );
  say(
    `   1.1.0 still attached (program ${progAfter[0]}) and counting: ${last.sent} more pings, counter at ${total + last.sent}`,
  );

  title('Final status (from the edge, GET /v1/fleet/devices)');
  for (const line of fleetTable([(await deviceView(fleet, device))!])) say(`   ${line}`);
  say('\nthe demo passed; stopping the edge and the agent, removing the namespaces and pins');
  return 0;
}
