// Staged rollouts through the real bpfleet-edge (its own fleet runtime, embedded broker with issued device
// logins, operator-signed group policies) with simulated devices: waves, failures, timeouts, pause/resume/abort
// and an edge crash mid-rollout.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Simulation, startSimulation } from '@bpfleet/agent';
import type { RolloutView } from '@bpfleet/sdk';
import { signPolicy } from '@bpfleet/sdk/policy';
import { deviceTopic } from '@bpfleet/sdk/protocol';
import { until } from '@bpfleet/sdk/test-kit';
import { generateKeyPair, toSigningKey, writeKeyPair } from '@bpfleet/sdk/trust';
import { type EdgeProcess, startEdgeProcess } from './fixtures/edge-process.js';
import { countManifest, signedPackage, standInObject } from './fixtures/test-packages.js';

const FLEET = 'rollouts';
const OLD = '1.0.0';
const NEW = '1.1.0';
const operator = generateKeyPair();
const publisher = generateKeyPair();
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

let work: string;
let edge: EdgeProcess;
let trust: Record<string, unknown>;
const simulations: Simulation[] = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'bpfleet-e2e-rollouts-'));
  const keys = await writeKeyPair(join(work, 'keys'), 'operator', operator);
  edge = await startEdgeProcess({
    dataDir: join(work, 'edge'),
    fleet: FLEET,
    operatorKeyFile: keys.publicKeyPath,
  });
  await edge.admin.createNamespace('acme');
  await edge.admin.addPublisherKey('acme', publisher.publicKeyPem);
  for (const [version, build] of [
    [OLD, 1],
    [NEW, 2],
  ] as const) {
    // The simulated loader never loads the object (a valid stand-in: the edge checks its programs); the package is real and signed.
    const pkg = await signedPackage(countManifest(version, build), standInObject(64), publisher);
    await edge.admin.publish({
      namespace: 'acme',
      name: 'count',
      version,
      archive: pkg.archive,
      bundle: pkg.bundle,
    });
  }
  const key = (k: { keyId: string; publicKeyPem: string }) => ({
    keyId: k.keyId,
    publicKeyPem: k.publicKeyPem,
  });
  const registryKey = await edge.admin.getRegistryKey();
  // Devices trust the operator and the edge's own key, which signs the per-device rollout overrides.
  trust = {
    operatorKeys: [key(operator), key(await edge.fleet.edgeKey())],
    registryKeys: [key(registryKey)],
    publishers: { acme: [key(publisher)] },
  };
});

after(async () => {
  await Promise.all(simulations.map((s) => s.stop().catch(() => {})));
  await edge?.stop().catch(() => {});
  await rm(work, { recursive: true, force: true });
});

/** The simulated devices' shared agent config (each device gets its own directory under `dataDir`). */
const base = (groupName: string) => ({
  fleet: FLEET,
  broker: { url: edge.brokerUrl },
  registry: { url: edge.url },
  trust,
  groups: [groupName],
  allow: { interfaces: ['wan0'] },
  reconcileIntervalSeconds: 2,
  dataDir: join(work, 'devices'),
});

interface Group {
  name: string;
  ids: string[];
  sims: Simulation[];
}

/**
 * Registers `n` devices in a group through the fleet API, applies an operator-signed group policy pinning the
 * old version, runs the devices (the first `refusing` of them refuse the new version) and waits until all run it.
 */
async function group(name: string, n: number, refusing = 0): Promise<Group> {
  const ids = Array.from({ length: n }, (_, i) => `${name}-${i}`);
  const credentials: Record<string, string> = {};
  for (const id of ids) credentials[id] = (await edge.fleet.registerDevice(id, [name])).broker.password;
  const current = await edge.fleet.currentPolicy({ group: name });
  const policy = await signPolicy(
    {
      apiVersion: 'bpfleet/v1',
      kind: 'Policy',
      serial: current.nextSerial,
      expires: '2099-01-01T00:00:00Z',
      target: { group: name },
      fleet: FLEET,
      programs: [{ id: 'count', package: 'acme/count', version: OLD, attach: { interface: 'wan0' } }],
      // The edge key signs the waves only within what the operators allow.
      allow: [{ package: 'acme/count', versions: NEW }],
    },
    toSigningKey(operator.privateKeyPem),
  );
  await edge.fleet.applyPolicy(policy);
  const run = (first: number, devices: number, rejectVersions: string[]) =>
    startSimulation({
      devices,
      first,
      prefix: `${name}-`,
      base: base(name),
      credentials,
      rejectVersions,
      logger: quiet,
    });
  const sims = [
    ...(refusing > 0 ? [await run(0, refusing, [NEW])] : []),
    await run(refusing, n - refusing, []),
  ];
  simulations.push(...sims);
  await until(async () => (await on(name, OLD)).length === n, `${n} devices of ${name} on ${OLD}`, 60_000);
  return { name, ids, sims };
}

/** Devices of a group whose reported state says the package is ATTACHED at `version`. */
async function on(groupName: string, version: string): Promise<string[]> {
  const devices = await edge.fleet.listDevices({ group: groupName });
  return devices
    .filter((d) =>
      d.programs.some((p) => p.package === 'acme/count' && p.status === 'ATTACHED' && p.version === version),
    )
    .map((d) => d.id);
}

/** The edge's count of rollout runner passes (`bpfleet_edge_rollout_passes_total`). */
async function rolloutPasses(): Promise<number> {
  const text = await (await fetch(`${edge.url}/metrics`)).text();
  const m = /^bpfleet_edge_rollout_passes_total (\d+)$/m.exec(text);
  if (!m) throw new Error('bpfleet_edge_rollout_passes_total missing from the edge /metrics');
  return Number(m[1]);
}

async function settled(id: string, states: string[], timeoutMs = 60_000): Promise<RolloutView> {
  let last: RolloutView | undefined;
  await until(
    async () => {
      last = await edge.fleet.getRollout(id);
      // Finished means its last actions (group policy moved, overrides cleared, devices restored) are done too.
      return states.includes(last.state) && !last.pending?.length;
    },
    `rollout ${id} ${states.join('|')}`,
    timeoutMs,
    () => [last?.state, last?.currentWave, last?.reason],
  );
  return last!;
}

const statuses = (r: RolloutView, ids: readonly string[]) => ids.map((d) => r.devices[d]?.status);

test('waves advance to COMPLETED: every device on the new version, group policy moved, overrides cleared', async () => {
  const g = await group('waves', 60);
  const started = await edge.fleet.startRollout({
    group: g.name,
    package: 'acme/count',
    version: NEW,
    waves: ['10%', '50%', '100%'],
    waveTimeoutMs: 30_000,
  });
  assert.equal(started.waves.length, 3);
  assert.deepEqual(
    started.waves.map((w) => w.devices.length),
    [6, 24, 30],
  );
  const done = await settled(started.id, ['COMPLETED', 'ABORTED']);
  assert.equal(done.state, 'COMPLETED', done.reason ?? '');
  assert.ok(done.waves.every((w) => w.finishedAt !== null));
  assert.deepEqual(new Set(statuses(done, g.ids)), new Set(['SUCCEEDED']));
  await until(async () => (await on(g.name, NEW)).length === g.ids.length, 'all on the new version');
  const groupPolicy = await edge.fleet.currentPolicy({ group: g.name });
  assert.equal(groupPolicy.policy?.programs[0]?.version, NEW);
  for (const id of [g.ids[0]!, g.ids[31]!, g.ids[59]!]) {
    const own = await edge.fleet.currentPolicy({ device: id });
    assert.deepEqual(own.policy?.programs, [], `${id} keeps no rollout override`);
  }
  // Without overrides, the devices follow the group: once each has applied its cleared override, it still
  // runs the new version.
  const cleared = new Map<string, number>();
  for (const id of g.ids) cleared.set(id, (await edge.fleet.currentPolicy({ device: id })).serial ?? 0);
  await until(async () => {
    const devices = await edge.fleet.listDevices({ group: g.name });
    return devices.every(
      (d) => d.policies?.[deviceTopic(FLEET, d.id, 'desired')]?.serial === cleared.get(d.id),
    );
  }, 'every device applied its cleared override');
  assert.equal((await on(g.name, NEW)).length, g.ids.length);
});

test('10% failing devices abort before the next wave; devices already moved are restored', async () => {
  // The first 5 of 50 devices refuse the new version (their loader fails, as a kernel lacking a helper
  // would): they are in the first wave (ids sort as f-0, f-1, f-10, …), two of its ten.
  const g = await group('f', 50, 5);
  const started = await edge.fleet.startRollout({
    group: g.name,
    package: 'acme/count',
    version: NEW,
    waves: ['20%', '100%'],
    waveTimeoutMs: 30_000,
    failureThreshold: 0.1,
  });
  const first = started.waves[0]!.devices;
  const refusing = first.filter((d) => Number(d.slice(2)) < 5);
  assert.ok(refusing.length * 10 > first.length, `first wave ${first} holds refusing devices`);
  const done = await settled(started.id, ['COMPLETED', 'ABORTED']);
  assert.equal(done.state, 'ABORTED');
  assert.equal(done.currentWave, 0, 'the second wave never started');
  for (const d of refusing) {
    assert.equal(done.devices[d]?.status, 'FAILED');
    assert.match(done.devices[d]?.detail ?? '', /LOAD_FAILED/);
  }
  assert.deepEqual(
    new Set(
      statuses(
        done,
        first.filter((d) => !refusing.includes(d)),
      ),
    ),
    new Set(['RESTORED']),
  );
  assert.deepEqual(new Set(statuses(done, done.waves[1]!.devices)), new Set(['PENDING']));
  // Everyone, moved or not, ends on the previous version; the group policy never moved.
  await until(async () => (await on(g.name, OLD)).length === g.ids.length, 'all back on the old version');
  assert.equal((await on(g.name, NEW)).length, 0);
  assert.equal((await edge.fleet.currentPolicy({ group: g.name })).policy?.programs[0]?.version, OLD);
});

test('devices offline when their wave starts become UNREACHABLE at the timeout, not failures', async () => {
  const g = await group('t', 20);
  // Three devices of the first wave go silent (their agents stop) before the rollout starts.
  const silent = ['t-0', 't-1', 't-10'];
  const sim = g.sims[0]!;
  await Promise.all(silent.map((id) => sim.devices[Number(id.slice(2))]!.stop()));
  await until(async () => {
    const devices = await edge.fleet.listDevices({ group: g.name });
    return devices.filter((d) => silent.includes(d.id)).every((d) => d.presence === 'offline');
  }, 'the edge sees the stopped devices offline');
  const started = await edge.fleet.startRollout({
    group: g.name,
    package: 'acme/count',
    version: NEW,
    waves: ['50%', '100%'],
    waveTimeoutMs: 3000,
    // Offline before their wave started: unreachable, which says nothing against the version and fails nothing.
    failureThreshold: 0,
  });
  for (const id of silent) assert.ok(started.waves[0]!.devices.includes(id));
  const done = await settled(started.id, ['COMPLETED', 'ABORTED']);
  assert.equal(done.state, 'COMPLETED', done.reason ?? '');
  for (const id of silent) {
    assert.equal(done.devices[id]?.status, 'UNREACHABLE');
    assert.match(
      done.devices[id]?.detail ?? '',
      /offline when its wave started and no report for 1\.1\.0 within 3s; not counted as a failure/,
    );
  }
  assert.ok(Object.values(done.devices).every((d) => d.status !== 'IN_PROGRESS'));
  assert.equal((await on(g.name, NEW)).length, g.ids.length - silent.length);
});

test('pause holds the rollout, resume continues it, abort restores the moved devices', async () => {
  const g = await group('p', 20);
  const started = await edge.fleet.startRollout({
    group: g.name,
    package: 'acme/count',
    version: NEW,
    waves: ['25%', '50%', '100%'],
    waveTimeoutMs: 30_000,
  });
  const paused = await edge.fleet.controlRollout(started.id, 'pause');
  assert.equal(paused.state, 'PAUSED');
  const first = started.waves[0]!.devices;
  await until(async () => (await on(g.name, NEW)).length === first.length, 'first wave on the new version');
  // Two runner passes after the first wave reported (the runner's own count, on the edge's /metrics), it is still
  // paused in the first wave; no one else moved.
  const seen = await rolloutPasses();
  await until(async () => (await rolloutPasses()) >= seen + 2, 'two rollout runner passes');
  const held = await edge.fleet.getRollout(started.id);
  assert.equal(held.state, 'PAUSED');
  assert.equal(held.currentWave, 0);
  assert.deepEqual(new Set(statuses(held, held.waves[1]!.devices)), new Set(['PENDING']));
  assert.deepEqual((await on(g.name, NEW)).sort(), [...first].sort());

  const resumed = await edge.fleet.controlRollout(started.id, 'resume');
  assert.ok(['RUNNING', 'COMPLETED'].includes(resumed.state));
  await until(
    async () => (await edge.fleet.getRollout(started.id)).currentWave >= 1,
    'the rollout moves to the second wave',
  );
  await edge.fleet.controlRollout(started.id, 'pause');
  const aborted = await edge.fleet.controlRollout(started.id, 'abort');
  assert.equal(aborted.state, 'ABORTED');
  const moved = aborted.waves.slice(0, aborted.currentWave + 1).flatMap((w) => w.devices);
  assert.deepEqual(new Set(statuses(aborted, moved)), new Set(['RESTORED']));
  await until(async () => (await on(g.name, OLD)).length === g.ids.length, 'all back on the old version');
  await assert.rejects(edge.fleet.controlRollout(started.id, 'resume'), /ROLLOUT_NOT_PAUSED|PAUSED|ABORTED/);
});

test('an edge killed mid-rollout continues it to completion after a restart', async () => {
  const g = await group('r', 30);
  const started = await edge.fleet.startRollout({
    group: g.name,
    package: 'acme/count',
    version: NEW,
    waves: ['10%', '30%', '100%'],
    waveTimeoutMs: 60_000,
  });
  await until(
    async () => (await edge.fleet.getRollout(started.id)).currentWave >= 1,
    'the rollout reaches its second wave',
  );
  await edge.restart();
  const resumedAt = await edge.fleet.getRollout(started.id);
  assert.ok(['RUNNING', 'COMPLETED'].includes(resumedAt.state), resumedAt.state);
  const done = await settled(started.id, ['COMPLETED', 'ABORTED'], 90_000);
  const failures = Object.entries(done.devices).filter(([, d]) => d.status !== 'SUCCEEDED');
  assert.equal(done.state, 'COMPLETED', `${done.reason}: ${JSON.stringify(failures)}`);
  assert.deepEqual(new Set(statuses(done, g.ids)), new Set(['SUCCEEDED']));
  await until(async () => (await on(g.name, NEW)).length === g.ids.length, 'all on the new version', 60_000);
  assert.equal((await edge.fleet.currentPolicy({ group: g.name })).policy?.programs[0]?.version, NEW);

  // Another crash; then a device that never saw any policy joins. The embedded broker lost its retained
  // messages with the process: the edge republishes its stored policies, so the newcomer still converges.
  await edge.restart();
  const late = `${g.name}-${g.ids.length}`;
  const password = (await edge.fleet.registerDevice(late, [g.name])).broker.password;
  simulations.push(
    await startSimulation({
      devices: 1,
      first: g.ids.length,
      prefix: `${g.name}-`,
      base: { ...base(g.name), dataDir: join(work, 'late') },
      credentials: { [late]: password },
      logger: quiet,
    }),
  );
  await until(async () => (await on(g.name, NEW)).includes(late), `${late} on the group's new version`);
});
