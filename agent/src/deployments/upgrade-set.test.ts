// Upgrades that change the program set: a new program is attached before anything old goes, the programs in both
// are swapped in their links (the XDP hook is never empty at a 1 ms poll), a dropped one is removed after the
// swap; a crash in the middle is rolled back or forward by adopt. The kernel (bpftool, ip) is the observer.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadCollection, openPinnedLink } from '@bpfleet/sdk/bpf';
import { DeploymentMetaStore } from './deployment-meta.js';
import { deploymentRecord } from './deployment-record.js';
import {
  compiled,
  heldBpfIds,
  linkedProgramIds,
  loaderEnv,
  objectSpec,
  pinnedLink,
  pollXdp,
  taggedVeth,
  xdpProgramId,
} from './loader-test-kit.js';

const env = loaderEnv();
const veth = taggedVeth();
const loader = () => env.loader({ interfaces: [veth.name], cgroups: [] });
const meta = () => new DeploymentMetaStore(join(env.dataDir, 'deployments'));
const pin = (name: string) => join(env.pinRoot, 'up', 'links', name);
const v1 = (version: string) =>
  objectSpec('up', 'pair_v1', [{ name: 'pair_xdp' }], { interface: veth.name }, version);
const v2 = (version: string) =>
  objectSpec(
    'up',
    'pair_v2',
    [{ name: 'pair_xdp' }, { name: 'pair_tcx' }],
    { interface: veth.name },
    version,
  );

before(() => veth.create());
after(async () => {
  const l = loader();
  for (const d of await l.adopt().catch(() => [])) await l.detach(d.id).catch(() => {});
  env.cleanup();
  veth.remove();
});

test('adding and dropping a program in an upgrade: make before break, the XDP hook never empty', async () => {
  const l = loader();
  const first = await l.attach(await v1('1.0.0'));
  const xdp1 = pinnedLink(pin('pair_xdp'));
  assert.equal(xdpProgramId(veth.name), xdp1.prog_id);

  const poll = pollXdp(veth.name);
  await poll.ready;
  const second = await l.upgrade(first, await v2('2.0.0'));
  const samples = await poll.stop();
  const xdp2 = pinnedLink(pin('pair_xdp'));
  assert.equal(xdp2.id, xdp1.id, 'the XDP program was swapped in its link');
  assert.notEqual(xdp2.prog_id, xdp1.prog_id);
  assert.ok(samples.length > 20, `enough samples (${samples.length})`);
  assert.deepEqual(
    samples.filter((id) => id !== xdp1.prog_id && id !== xdp2.prog_id),
    [],
    'a program on the XDP hook at every sample',
  );
  const tcx = pinnedLink(pin('pair_tcx'));
  assert.deepEqual(linkedProgramIds('pair_tcx'), [tcx.prog_id], 'the new program is attached');

  const third = await l.upgrade(second, await v1('3.0.0'));
  assert.equal(third.version, '3.0.0');
  assert.equal(existsSync(pin('pair_tcx')), false);
  assert.deepEqual(linkedProgramIds('pair_tcx'), [], 'the dropped program is gone from the hook');
  assert.equal(pinnedLink(pin('pair_xdp')).id, xdp1.id);

  const adopted = await loader().adopt();
  assert.deepEqual(
    adopted.map((d) => [d.id, d.version]),
    [['up', '3.0.0']],
  );
  await l.detach('up');
  assert.equal(xdpProgramId(veth.name), undefined);
});

test('a crash mid program-set change: adopt rolls back an incomplete one and forward a complete one', async () => {
  const l = loader();
  const running = await l.attach(await v1('1.0.0'));
  const before = await meta().read('up');
  assert.ok(before);
  // The crashed upgrade to 2.0.0 had attached and pinned the new tcx program, the XDP link not yet swapped.
  const next = await v2('2.0.0');
  const loaded = await loadCollection(compiled('pair_v2'));
  const tcx = await loaded
    .program('pair_tcx')
    .attach({ kind: 'tcx', interface: veth.name, direction: 'ingress' });
  tcx.pin(pin('pair_tcx'));
  await meta().write('up', {
    phase: 'upgrading',
    current: {
      deployment: deploymentRecord(next),
      programIds: { pair_xdp: loaded.program('pair_xdp').id, pair_tcx: loaded.program('pair_tcx').id },
      maps: {},
    },
    previous: before.current,
  });
  tcx.close();
  loaded.close();
  l.release(); // the crashed process's fds are gone with it
  assert.equal(linkedProgramIds('pair_tcx').length, 1);

  const back = await loader().adopt();
  assert.deepEqual(
    back.map((d) => [d.id, d.version]),
    [['up', running.version]],
    'rolled back to what fully runs',
  );
  assert.deepEqual(linkedProgramIds('pair_tcx'), [], 'the half-attached program is removed');
  assert.equal(existsSync(pin('pair_tcx')), false);

  // Now 2.0.0 runs, and the crashed upgrade back to 3.0.0 had swapped the XDP program, not removed the tcx one.
  const l2 = loader();
  await l2.adopt();
  const v2running = await l2.upgrade(running, next);
  const before2 = await meta().read('up');
  assert.ok(before2);
  const three = await v1('3.0.0');
  const loaded3 = await loadCollection(compiled('pair_v1'));
  const xdpLink = openPinnedLink(pin('pair_xdp'));
  xdpLink.update(loaded3.program('pair_xdp'));
  await meta().write('up', {
    phase: 'upgrading',
    current: {
      deployment: deploymentRecord(three),
      programIds: { pair_xdp: loaded3.program('pair_xdp').id },
      maps: {},
    },
    previous: before2.current,
  });
  const xdp3 = loaded3.program('pair_xdp').id;
  xdpLink.close();
  loaded3.close();
  l2.release(); // the crashed process's fds are gone with it

  const forward = await loader().adopt();
  assert.deepEqual(
    forward.map((d) => [d.id, d.version]),
    [['up', '3.0.0']],
    `rolled forward from ${v2running.version}`,
  );
  assert.deepEqual(linkedProgramIds('pair_tcx'), [], 'the program 3.0.0 dropped is removed');
  assert.equal(xdpProgramId(veth.name), xdp3);
  await loader().detach('up');
});

test('upgrading a tracing program (its link cannot be updated): the new link runs before the old one goes', async () => {
  const l = loader();
  const spec = (version: string) =>
    objectSpec('trace', 'kind_raw_tp', [{ name: 'kind_raw_tp' }], {}, version);
  const tracePin = join(env.pinRoot, 'trace', 'links', 'kind_raw_tp');
  const first = await l.attach(await spec('1.0.0'));
  const before = pinnedLink(tracePin);
  await l.upgrade(first, await spec('1.1.0'));
  const after = pinnedLink(tracePin);
  assert.notEqual(after.id, before.id, 'a new link');
  assert.notEqual(after.prog_id, before.prog_id, 'running the new program');
  assert.deepEqual(linkedProgramIds('kind_raw_tp'), [after.prog_id], 'the old link is gone');
  assert.equal(heldBpfIds().links.has(before.id), false);
  await l.detach('trace');
  assert.deepEqual(linkedProgramIds('kind_raw_tp'), []);
});

test('kernel checks while an upgrade runs wait for it (never "repair" a half-done upgrade back)', async () => {
  const l = loader();
  const first = await l.attach(await v1('1.0.0'));
  const upgrading = l.upgrade(first, await v2('2.0.0'));
  let done = false;
  upgrading.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  const checks: string[] = [];
  while (!done) {
    for (const c of await l.check()) if (c.drift) checks.push(c.drift.code);
    await new Promise((r) => setImmediate(r));
  }
  await upgrading;
  assert.deepEqual(checks, [], 'no drift seen during the upgrade');
  assert.equal(xdpProgramId(veth.name), pinnedLink(pin('pair_xdp')).prog_id);
  assert.deepEqual(
    (await l.check()).map((c) => c.drift),
    [undefined],
  );
  const meta = await new DeploymentMetaStore(join(env.dataDir, 'deployments')).read('up');
  assert.equal(xdpProgramId(veth.name), meta?.current.programIds.pair_xdp, 'the new version runs');
  await l.detach('up');
});
