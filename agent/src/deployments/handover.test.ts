// A rename on the same hooks without a gap: the XDP link is re-pinned under the new id and swapped (a program on
// the hook at every 1 ms sample of `ip -j link`), the tcx program is attached anew before the old link goes.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadCollection, openPinnedLink } from '@bpfleet/sdk/bpf';
import { DeploymentMetaStore } from './deployment-meta.js';
import { deploymentRecord } from './deployment-record.js';
import {
  compiled,
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
const pin = (id: string, name: string) => join(env.pinRoot, id, 'links', name);
const pair = (id: string) =>
  objectSpec(id, 'pair_v2', [{ name: 'pair_xdp' }, { name: 'pair_tcx' }], { interface: veth.name });

before(() => veth.create());
after(async () => {
  const l = loader();
  for (const d of await l.adopt().catch(() => [])) await l.detach(d.id).catch(() => {});
  env.cleanup();
  veth.remove();
});

test('renaming a deployment on XDP and tcx hands the hooks over without a gap', async (t) => {
  const l = loader();
  const old = await l.attach(await pair('old'));
  const oldXdp = pinnedLink(pin('old', 'pair_xdp'));
  const oldTcx = pinnedLink(pin('old', 'pair_tcx'));
  const spec = await pair('new');

  const poll = pollXdp(veth.name);
  await poll.ready;
  const renamed = await l.handover(old, spec);
  const samples = await poll.stop();
  t.diagnostic(`${samples.length} samples of the XDP hook during the rename`);

  assert.equal(renamed.id, 'new');
  const newXdp = pinnedLink(pin('new', 'pair_xdp'));
  assert.equal(newXdp.id, oldXdp.id, 'the same XDP link, pinned under the new id');
  assert.notEqual(newXdp.prog_id, oldXdp.prog_id, 'running the new program');
  assert.ok(samples.length > 20, `enough samples (${samples.length})`);
  assert.deepEqual(
    samples.filter((id) => id !== oldXdp.prog_id && id !== newXdp.prog_id),
    [],
    'a program on the XDP hook at every sample',
  );
  assert.equal(xdpProgramId(veth.name), newXdp.prog_id);
  const newTcx = pinnedLink(pin('new', 'pair_tcx'));
  assert.notEqual(newTcx.id, oldTcx.id);
  assert.deepEqual(linkedProgramIds('pair_tcx'), [newTcx.prog_id], 'the old tcx link is gone');
  assert.equal(existsSync(join(env.pinRoot, 'old')), false, "the old id's pins are gone");
  assert.equal(await new DeploymentMetaStore(join(env.dataDir, 'deployments')).read('old'), undefined);

  l.release();
  const restarted = loader();
  assert.deepEqual(
    (await restarted.adopt()).map((d) => d.id),
    ['new'],
  );
  await restarted.detach('new');
  assert.equal(xdpProgramId(veth.name), undefined);
});

test('a crash mid hand-over: adopt finishes a complete one and undoes an incomplete one', async () => {
  const store = new DeploymentMetaStore(join(env.dataDir, 'deployments'));
  const l = loader();
  await l.attach(await pair('old'));
  const oldXdp = pinnedLink(pin('old', 'pair_xdp'));
  const oldTcx = pinnedLink(pin('old', 'pair_tcx'));
  const spec = await pair('new');
  const loaded = await loadCollection(compiled('pair_v2'));
  const version = {
    deployment: deploymentRecord(spec),
    programIds: { pair_xdp: loaded.program('pair_xdp').id, pair_tcx: loaded.program('pair_tcx').id },
    maps: {},
  };
  // Crashed after the XDP link was pinned under the new id, before its swap: the new id is incomplete.
  mkdirSync(join(env.pinRoot, 'new', 'links'), { recursive: true });
  const shared = openPinnedLink(pin('old', 'pair_xdp'));
  shared.pin(pin('new', 'pair_xdp'));
  await store.write('new', { phase: 'handover', current: version, from: 'old' });
  shared.close();
  l.release();
  const undone = loader();
  assert.deepEqual(
    (await undone.adopt()).map((d) => d.id),
    ['old'],
    'undone: the old id runs on',
  );
  assert.equal(existsSync(join(env.pinRoot, 'new')), false);
  assert.equal(xdpProgramId(veth.name), oldXdp.prog_id);
  assert.equal(pinnedLink(pin('old', 'pair_xdp')).id, oldXdp.id);

  // Crashed after every new link was made and swapped, before the old tcx link and the old pins went.
  mkdirSync(join(env.pinRoot, 'new', 'links'), { recursive: true });
  const xdp = openPinnedLink(pin('old', 'pair_xdp'));
  xdp.pin(pin('new', 'pair_xdp'));
  xdp.update(loaded.program('pair_xdp'));
  const tcx = await loaded
    .program('pair_tcx')
    .attach({ kind: 'tcx', interface: veth.name, direction: 'ingress' });
  tcx.pin(pin('new', 'pair_tcx'));
  await store.write('new', { phase: 'handover', current: version, from: 'old' });
  xdp.close();
  tcx.close();
  loaded.close();
  undone.release();
  const restarted = loader();
  assert.deepEqual(
    (await restarted.adopt()).map((d) => d.id),
    ['new'],
    'finished',
  );
  assert.equal(existsSync(join(env.pinRoot, 'old')), false);
  assert.equal(await store.read('old'), undefined);
  assert.equal(xdpProgramId(veth.name), version.programIds.pair_xdp);
  assert.deepEqual(
    linkedProgramIds('pair_tcx'),
    [version.programIds.pair_tcx],
    `old tcx link ${oldTcx.id} gone`,
  );
  await restarted.detach('new');
  assert.equal(xdpProgramId(veth.name), undefined);
});

test('a hand-over failing half-way swaps the XDP program back and leaves the old id as it was', async () => {
  // The tcx program's interface (allowed, but not there) fails after the XDP link was taken over and swapped.
  const missing = `${veth.name.slice(0, -1)}z`;
  const l = env.loader({ interfaces: [veth.name, missing], cgroups: [] });
  const old = await l.attach(await pair('old'));
  const oldXdp = pinnedLink(pin('old', 'pair_xdp'));
  const oldTcx = pinnedLink(pin('old', 'pair_tcx'));
  const failing = await objectSpec(
    'new',
    'pair_v2',
    [
      { name: 'pair_xdp', attach: { interface: veth.name } },
      { name: 'pair_tcx', attach: { interface: missing } },
    ],
    {},
  );
  await assert.rejects(l.handover(old, failing), /not found/);
  assert.equal(xdpProgramId(veth.name), oldXdp.prog_id, 'the old program is back on the hook');
  assert.equal(pinnedLink(pin('old', 'pair_xdp')).id, oldXdp.id);
  assert.equal(pinnedLink(pin('old', 'pair_tcx')).id, oldTcx.id);
  assert.equal(existsSync(join(env.pinRoot, 'new')), false);
  assert.deepEqual(linkedProgramIds('pair_tcx'), [oldTcx.prog_id]);
  await l.detach('old');
  assert.equal(xdpProgramId(veth.name), undefined);
  assert.deepEqual(linkedProgramIds('pair_tcx'), []);
});
