// End to end on the real kernel: bpfleet-edge (registry over HTTP), the embedded broker with the fleet's access
// control, the fleet controller, and the bpfleet-agent process inside a device network namespace attaching XDP
// to its wan interface while a peer namespace pings it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Policy, signPolicy } from '@bpfleet/sdk/policy';
import { deviceTopic, type ProgramReport } from '@bpfleet/sdk/protocol';
import { createRegistryClient, type RegistryClient } from '@bpfleet/sdk/registry-client';
import { until } from '@bpfleet/sdk/test-kit';
import { generateKeyPair, toSigningKey } from '@bpfleet/sdk/trust';
import { type AgentProcess, spawnAgent } from './fixtures/agent-process.js';
import { writeDeviceAgentConfig } from './fixtures/device-agent-config.js';
import { createDeviceNetwork, type DeviceNetwork } from './fixtures/device-network.js';
import { type EdgeRegistry, startEdgeRegistry } from './fixtures/edge-registry.js';
import { type FleetEdge, startFleetEdge } from './fixtures/fleet-edge.js';
import { linksRunning, pinsUnder, programMetrics, xdpPrograms } from './fixtures/kernel-state.js';
import { killDuringUpgrade, recordPhase } from './fixtures/kill-during-upgrade.js';
import { moveSigned } from './fixtures/signed-channel.js';
import {
  compileProgram,
  countManifest,
  type SignedPackage,
  signedPackage,
} from './fixtures/test-packages.js';

const FLEET = 'home';
const DEVICE = 'cpe-1';
const operator = generateKeyPair();
const publisher = generateKeyPair();
const rogue = generateKeyPair();
const pinRoot = `/sys/fs/bpf/bpfleet-e2e-${randomBytes(6).toString('hex')}`;
const desiredTopic = deviceTopic(FLEET, DEVICE, 'desired');

let net: DeviceNetwork;
let registry: EdgeRegistry;
let edge: FleetEdge;
let publish: RegistryClient;
let work: string;
let configPath: string;
let metricsUrl: string;
const agents: AgentProcess[] = [];

before(async () => {
  net = createDeviceNetwork();
  work = await mkdtemp(join(tmpdir(), 'bpfleet-e2e-device-'));
  registry = await startEdgeRegistry(net.edgeAddr);
  edge = await startFleetEdge('embedded', FLEET, net.edgeAddr, [{ id: DEVICE, groups: ['gateways'] }]);
  await registry.admin.createNamespace('acme');
  await registry.admin.addPublisherKey('acme', publisher.publicKeyPem);
  // The registry accepts this key for acme; the device's trust policy does not.
  await registry.admin.addPublisherKey('acme', rogue.publicKeyPem);
  const { token } = await registry.admin.createToken('acme', 'e2e');
  publish = createRegistryClient({ url: registry.url, token });
  metricsUrl = `http://${net.deviceAddr}:9465/metrics`;
  configPath = await writeDeviceAgentConfig(
    {
      work,
      deviceId: DEVICE,
      fleet: FLEET,
      groups: ['gateways'],
      broker: { url: edge.brokerUrl, password: edge.logins[DEVICE]?.secret },
      registry: { url: registry.url, registryKey: registry.registryKey },
      operator,
      publisher,
      pinRoot,
      wan: net.wan,
    },
    { metrics: { host: net.deviceAddr, port: 9465 }, telemetryIntervalSeconds: 1 },
  );
});

after(async () => {
  for (const a of agents) {
    a.signal('SIGKILL');
    await a.exited;
  }
  // Removing the pins drops the last reference to the links: the XDP program detaches.
  await rm(pinRoot, { recursive: true, force: true });
  await edge?.close().catch(() => {});
  await registry?.stop().catch(() => {});
  net?.remove();
  await rm(work, { recursive: true, force: true });
});

function startAgent(): AgentProcess {
  const a = spawnAgent(net.deviceNs, configPath);
  agents.push(a);
  return a;
}

async function stopAgent(a: AgentProcess, sig: 'SIGTERM' | 'SIGKILL'): Promise<number | string> {
  a.signal(sig);
  return a.exited;
}

let serial = 0;
const sent: string[] = [];
async function applyPolicy(programs: Policy['programs'], expires = '2099-01-01T00:00:00Z'): Promise<string> {
  const policy: Policy = {
    apiVersion: 'bpfleet/v1',
    kind: 'Policy',
    serial: ++serial,
    expires,
    target: { device: DEVICE },
    fleet: FLEET,
    programs,
  };
  const bundle = JSON.stringify(await signPolicy(policy, toSigningKey(operator.privateKeyPem)));
  sent.push(bundle);
  // Published retained on the device's desired topic, as the fleet controller does for every policy.
  await edge.publishDesired({ device: DEVICE }, bundle);
  return bundle;
}

async function release(pkg: SignedPackage, channel = true, signer?: RegistryClient): Promise<void> {
  await (signer ?? publish).publish({
    namespace: 'acme',
    name: 'count',
    version: pkg.version,
    archive: pkg.archive,
    bundle: pkg.bundle,
  });
  if (channel) await moveSigned(publish, publisher, pkg.version);
}

const reported = () => edge.store.getDevice(DEVICE)?.reported ?? undefined;
const program = (): ProgramReport | undefined => reported()?.programs.find((p) => p.id === 'count');
const events = () =>
  edge.store
    .events(DEVICE, 500)
    .map((e) => e.event)
    .reverse();
const counts = () => programMetrics(metricsUrl, 'count');

/** Exactly one XDP program on wan0, run by exactly one link; returns its id. */
function attachedOnce(): number {
  const progs = xdpPrograms(net.deviceNs, net.wan);
  assert.equal(progs.length, 1, `XDP programs on ${net.wan}: ${progs}`);
  const id = progs[0]!;
  assert.equal(linksRunning(id), 1, `links running program ${id}`);
  return id;
}

test('publish → policy → attached → counted → followed upgrade without loss → rejected, tampered, wrong-key packages and bad policies refused → kill -9 mid-upgrade → restart converges', async (t) => {
  const good = compileProgram('xdp_count');
  const bad = compileProgram('xdp_rejected');
  const v1 = await signedPackage(countManifest('1.0.0', 1), good, publisher);
  await release(v1);

  // Policy → ATTACHED, with the AWS-jobs-like event sequence.
  const agent = startAgent();
  await applyPolicy([
    { id: 'count', package: 'acme/count', channel: 'stable', attach: { interface: net.wan } },
  ]);
  await until(
    () => program()?.status === 'ATTACHED',
    'v1 attached',
    30_000,
    () => [program(), agent.logs().slice(-5)],
  );
  assert.equal(program()?.version, '1.0.0');
  assert.equal(program()?.digest, v1.digest);
  assert.deepEqual(
    events()
      .filter((e) => e.deployment === 'count')
      .map((e) => e.state),
    ['QUEUED', 'DOWNLOADING', 'VERIFYING', 'ATTACHED'],
  );
  const p1 = attachedOnce();

  // Traffic counted: the agent's metrics endpoint reads the pinned map.
  const first = await net.ping(10);
  assert.equal(first.received, 10);
  await until(async () => (await counts()).get('slot=0') === 10, '10 packets counted', 10_000);
  assert.equal((await counts()).get('slot=1'), 1, 'build 1 counted');

  // v1.1 on the channel: followed, swapped into the link while pings flow, none lost, none uncounted.
  const v11 = await signedPackage(countManifest('1.1.0', 2), good, publisher);
  const pinging = net.ping(400, 0.005);
  await new Promise((r) => setTimeout(r, 300));
  await release(v11);
  await until(() => program()?.version === '1.1.0' && program()?.status === 'ATTACHED', 'v1.1 attached');
  const during = await pinging;
  assert.equal(during.sent, 400);
  assert.equal(during.received, 400, 'no packet lost across the upgrade');
  await until(
    async () => (await counts()).get('slot=0') === 410,
    'every packet counted across the swap',
    10_000,
    () => counts,
  );
  assert.equal((await counts()).get('slot=1'), 2, 'build 2 counts now');
  const p11 = attachedOnce();
  assert.notEqual(p11, p1);

  // A version the verifier rejects: rolled back before the swap, the old one still attached and counting.
  await release(await signedPackage(countManifest('1.2.0', 3), bad, publisher));
  await until(
    () => program()?.status === 'ROLLED_BACK' && program()?.lastError?.code === 'VERIFIER_REJECTED',
    'verifier rejection rolled back',
    30_000,
    program,
  );
  assert.equal(program()?.version, '1.1.0');
  assert.ok(events().some((e) => e.state === 'ROLLED_BACK' && e.version === '1.2.0'));
  assert.equal(attachedOnce(), p11);
  await net.ping(5);
  await until(async () => (await counts()).get('slot=0') === 415, 'old version still counts', 10_000);
  assert.equal((await counts()).get('slot=1'), 2);

  // A tampered package (the blob changed on the registry's disk after publishing): refused, nothing attached.
  const tampered = await signedPackage(countManifest('1.3.0', 4), good, publisher);
  await release(tampered, false);
  const blob = await readFile(registry.blobPath(tampered.digest));
  blob[blob.length - 9] = (blob[blob.length - 9] ?? 0) ^ 0xff;
  await writeFile(registry.blobPath(tampered.digest), blob);
  await moveSigned(publish, publisher, '1.3.0');
  await until(
    () => program()?.lastError?.code === 'DIGEST_MISMATCH',
    'tampered package refused',
    30_000,
    program,
  );
  assert.equal(program()?.version, '1.1.0');
  assert.equal(attachedOnce(), p11);

  // A package signed by a key the registry accepts but the device does not trust: refused, nothing attached.
  await release(await signedPackage(countManifest('1.4.0', 5), good, rogue));
  await until(
    () => program()?.lastError?.code === 'KEY_UNKNOWN',
    'wrong-key package refused',
    30_000,
    program,
  );
  assert.equal(program()?.status, 'ROLLED_BACK');
  assert.equal(program()?.version, '1.1.0');
  assert.ok(
    events().some(
      (e) => e.state === 'ROLLED_BACK' && e.version === '1.4.0' && e.reason?.code === 'KEY_UNKNOWN',
    ),
  );
  assert.equal(attachedOnce(), p11);

  // Policies: a replay of the first (older serial) and an expired one are refused, the reason reported.
  const programs: Policy['programs'] = [
    { id: 'count', package: 'acme/count', channel: 'stable', attach: { interface: net.wan } },
  ];
  await applyPolicy(programs);
  await until(() => reported()?.policies[desiredTopic]?.serial === 2, 'serial 2 applied');
  await edge.publishDesired({ device: DEVICE }, sent[0]!);
  await until(
    () => reported()?.policyErrors[desiredTopic]?.code === 'POLICY_REPLAYED',
    'replayed policy refused',
  );
  await applyPolicy([], '2020-01-01T00:00:00Z');
  await until(
    () => reported()?.policyErrors[desiredTopic]?.code === 'POLICY_EXPIRED',
    'expired policy refused',
  );
  assert.ok(events().some((e) => e.state === 'REJECTED' && e.reason?.code === 'POLICY_EXPIRED'));
  assert.ok(events().some((e) => e.state === 'REJECTED' && e.reason?.code === 'POLICY_REPLAYED'));
  assert.equal(reported()?.policies[desiredTopic]?.serial, 2);
  assert.equal(attachedOnce(), p11, 'the expired policy (no programs) removed nothing');

  // kill -9 while the agent is upgrading to v1.5 (after its VERIFYING event, before the swap: the kernel still
  // runs the old program once it is dead), then a restart: converges on v1.5, one link, no pin leaked.
  const early = await killInPhase(t, agent, 'before the swap', '1.5', 6, good);
  const beforeRestart = (await counts().catch(() => new Map<string, number>())).get('slot=0');
  assert.equal(beforeRestart, undefined, 'the agent is down');
  const restarted = startAgent();
  await until(
    () => program()?.version === early && program()?.status === 'ATTACHED',
    `converged on ${early} after kill -9 before the swap`,
    30_000,
    () => [program(), restarted.logs().slice(-5)],
  );
  const p15 = attachedOnce();
  assert.deepEqual(pinsUnder(pinRoot), ['count/links/count_pings', 'count/maps/counts']);
  await net.ping(5);
  await until(async () => (await counts()).get('slot=1') === 6, 'build 6 counts', 10_000);
  assert.ok(((await counts()).get('slot=0') ?? 0) >= 420, 'the persisted map survived the crash and upgrade');

  // Again, now killed inside the swap window (its deployment record still says `upgrading` to v1.6 once dead).
  const inSwap = await killInPhase(t, restarted, 'inside the swap', '1.6', 7, good);
  const third = startAgent();
  await until(
    () => program()?.version === inSwap && program()?.status === 'ATTACHED',
    `converged on ${inSwap} after the second kill -9`,
    30_000,
    () => [program(), third.logs().slice(-5)],
  );
  const p16 = attachedOnce();
  assert.notEqual(p16, p15);
  assert.deepEqual(pinsUnder(pinRoot), ['count/links/count_pings', 'count/maps/counts']);
  await net.ping(5);
  await until(async () => (await counts()).get('slot=1') === 7, 'build 7 counts', 10_000);

  // SIGTERM: the agent stops cleanly and leaves the program attached; a restart adopts it, attaching nothing.
  assert.equal(await stopAgent(third, 'SIGTERM'), 0);
  assert.equal(attachedOnce(), p16, 'still attached with no agent running');
  const eventsBefore = events().length;
  const again = startAgent();
  await until(async () => (await counts()).get('slot=1') === 7, 'restarted agent serves metrics', 30_000);
  await until(() => again.logs().some((l) => l.includes('adopted pinned deployments')), 'adopted');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(attachedOnce(), p16, 'adopted, not attached again');
  assert.ok(
    !events()
      .slice(eventsBefore)
      .some((e) => e.state === 'ATTACHED'),
    'no new attach after restart',
  );
  assert.deepEqual(pinsUnder(pinRoot), ['count/links/count_pings', 'count/maps/counts']);
});

type KillPhase = 'before the swap' | 'inside the swap';

/**
 * Releases `${minor}.0`, `${minor}.1`, … and SIGKILLs the agent during each upgrade until the kill is proven to
 * have landed `where` it should, judged once the agent is dead: before the swap, the kernel still runs the old
 * program; inside the swap, the deployment record still says `upgrading` to that version. A kill that came too
 * late (the race is real) restarts the agent, waits for it to converge and tries again, at most 8 times.
 * Returns the version whose upgrade the kill interrupted; the agent is left dead.
 */
async function killInPhase(
  t: { diagnostic(message: string): void },
  first: AgentProcess,
  where: KillPhase,
  minor: string,
  build: number,
  object: Buffer,
): Promise<string> {
  const metaDir = join(work, 'data', 'deployments');
  let agent = first;
  for (let attempt = 0; attempt < 8; attempt++) {
    const version = `${minor}.${attempt}`;
    const running = attachedOnce();
    const killed = killDuringUpgrade(agent, {
      metaDir,
      deployment: 'count',
      version,
      early: where === 'before the swap',
      events,
    });
    await release(await signedPackage(countManifest(version, build), object, publisher));
    const trigger = await killed;
    assert.equal(await agent.exited, 'SIGKILL');
    const landed =
      where === 'before the swap'
        ? xdpPrograms(net.deviceNs, net.wan).join() === String(running)
        : recordPhase(metaDir, 'count', version) === 'upgrading';
    t.diagnostic(`kill -9 ${trigger} (${version}): ${landed ? 'landed' : 'missed'} ${where}`);
    if (landed) return version;
    agent = startAgent();
    await until(
      () => program()?.version === version && program()?.status === 'ATTACHED',
      `converged on ${version} after a kill -9 that missed ${where}`,
      30_000,
      () => [program(), agent.logs().slice(-5)],
    );
  }
  return assert.fail(`no kill -9 landed ${where} in 8 upgrades`);
}
