// A rename on the same hooks without a gap: the XDP link is re-pinned under the new id and swapped (a program on
// the hook at every 1 ms sample of `ip -j link`), the tcx program is attached anew before the old link goes.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DeploymentMetaStore } from './deployment-meta.js';
import {
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
  const adopted = await loader().adopt();
  assert.deepEqual(
    adopted.map((d) => d.id),
    ['new'],
  );
  await loader().detach('new');
  assert.equal(xdpProgramId(veth.name), undefined);
});
