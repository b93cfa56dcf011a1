// The kernel check at loader level: a deleted link pin, `xdp off`, a program swapped behind the agent's back, an
// interface deleted and re-created, each seen and repaired (ip -j link / bpftool as the observer); its cost.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadCollection, openPinnedLink } from '@bpfleet/sdk/bpf';
import {
  bpftool,
  compiled,
  loaderEnv,
  objectSpec,
  pinnedLink,
  taggedCgroup,
  taggedVeth,
  xdpProgramId,
} from './loader-test-kit.js';

const env = loaderEnv();
const veth = taggedVeth();
const loader = () => env.loader({ interfaces: [veth.name], cgroups: [] });
const pin = join(env.pinRoot, 'drift', 'links', 'kind_xdp');

before(() => veth.create());
after(async () => {
  const l = loader();
  for (const d of await l.adopt().catch(() => [])) await l.detach(d.id).catch(() => {});
  env.cleanup();
  veth.remove();
});

function drift(checks: Array<{ id: string; drift?: { code: string }; outcome?: string }>) {
  return checks.map((c) => [c.id, c.drift?.code, c.outcome]);
}

test('drift is seen and repaired from what the loader holds', async () => {
  const l = loader();
  await l.attach(await objectSpec('drift', 'kind_xdp', [{ name: 'kind_xdp' }], { interface: veth.name }));
  const link = pinnedLink(pin);
  assert.equal(xdpProgramId(veth.name), link.prog_id);
  assert.deepEqual(drift(await l.check()), [['drift', undefined, undefined]]);

  // The pin deleted (the last reference when the agent closed its fds): the held fd keeps the link.
  rmSync(pin);
  assert.equal(xdpProgramId(veth.name), link.prog_id, 'still on the hook');
  assert.deepEqual(drift(await l.check()), [['drift', 'DRIFT_PIN_MISSING', 'repaired']]);
  assert.equal(pinnedLink(pin).id, link.id, 'pinned again');
  assert.deepEqual(drift(await l.check()), [['drift', undefined, undefined]]);

  // `xdp off` on a hook a bpf_link owns: the kernel refuses, the program stays.
  assert.throws(
    () => execFileSync('ip', ['link', 'set', 'dev', veth.name, 'xdp', 'off'], { stdio: 'pipe' }),
    /Can't replace active BPF XDP link/,
  );
  assert.equal(xdpProgramId(veth.name), link.prog_id);
  assert.deepEqual(drift(await l.check()), [['drift', undefined, undefined]]);

  // Another program swapped into the link through its pin, behind the agent's back.
  const other = await loadCollection(compiled('kind_xdp'));
  const intruder = openPinnedLink(pin);
  intruder.update(other.program('kind_xdp'));
  intruder.close();
  assert.equal(xdpProgramId(veth.name), other.program('kind_xdp').id);
  assert.deepEqual(drift(await l.check()), [['drift', 'DRIFT_PROGRAM_REPLACED', 'repaired']]);
  assert.equal(xdpProgramId(veth.name), link.prog_id, 'the recorded program runs again');
  other.close();

  // The interface deleted: waiting; re-created under the same name: attached again from the held collection.
  veth.remove();
  assert.deepEqual(drift(await l.check()), [['drift', 'DRIFT_TARGET_MISSING', 'waiting']]);
  veth.create();
  assert.equal(xdpProgramId(veth.name), undefined);
  assert.deepEqual(drift(await l.check()), [['drift', 'DRIFT_DETACHED', 'repaired']]);
  assert.equal(xdpProgramId(veth.name), link.prog_id);
  assert.equal(pinnedLink(pin).prog_id, link.prog_id);
  assert.deepEqual(drift(await l.check()), [['drift', undefined, undefined]]);

  // After a restart the link fds are held again (adopt), but there is no collection to re-attach from.
  l.release();
  const restarted = loader();
  await restarted.adopt();
  rmSync(pin);
  assert.deepEqual(drift(await restarted.check()), [['drift', 'DRIFT_PIN_MISSING', 'repaired']]);
  veth.remove();
  assert.deepEqual(drift(await restarted.check()), [['drift', 'DRIFT_TARGET_MISSING', 'waiting']]);
  veth.create();
  assert.deepEqual(drift(await restarted.check()), [['drift', 'DRIFT_DETACHED', 'redeploy']]);
  await restarted.detach('drift');
  assert.equal(xdpProgramId(veth.name), undefined);
});

test('the check costs microseconds per deployment (10 tcx deployments)', async (t) => {
  const l = loader();
  const ids = Array.from({ length: 10 }, (_, i) => `cost-${i}`);
  for (const id of ids)
    await l.attach(await objectSpec(id, 'kind_tcx', [{ name: 'kind_tcx' }], { interface: veth.name }));
  const rounds = 2000;
  for (let i = 0; i < 100; i++) await l.check();
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    const checks = await l.check();
    if (checks.some((c) => c.drift)) assert.fail(`unexpected drift ${JSON.stringify(checks)}`);
  }
  const perDeployment = Number(process.hrtime.bigint() - start) / 1000 / rounds / ids.length;
  t.diagnostic(`kernel check: ${perDeployment.toFixed(1)} µs per deployment`);
  // A 10 s timer over 10 deployments at this cost is far under 1% of a core.
  assert.ok(perDeployment < 500, `${perDeployment} µs per deployment`);
  for (const id of ids) await l.detach(id);
});

test('a cgroup removed and created again: waiting, then attached to the new one', async () => {
  const cgroup = taggedCgroup();
  const l = env.loader({ interfaces: [], cgroups: [cgroup.rel] });
  try {
    await l.attach(
      await objectSpec('cg', 'kind_cgroup_skb', [{ name: 'kind_cgroup_skb' }], { cgroup: cgroup.rel }),
    );
    const link = pinnedLink(join(env.pinRoot, 'cg', 'links', 'kind_cgroup_skb'));
    const attached = () => bpftool<Array<{ id: number }>>('cgroup', 'show', cgroup.path).map((p) => p.id);
    assert.deepEqual(attached(), [link.prog_id]);
    assert.deepEqual(drift(await l.check()), [['cg', undefined, undefined]]);

    rmdirSync(cgroup.path);
    assert.deepEqual(drift(await l.check()), [['cg', 'DRIFT_TARGET_MISSING', 'waiting']]);
    mkdirSync(cgroup.path);
    assert.deepEqual(attached(), []);
    assert.deepEqual(drift(await l.check()), [['cg', 'DRIFT_DETACHED', 'repaired']]);
    assert.deepEqual(attached(), [link.prog_id], 'the recorded program on the new cgroup');
    assert.deepEqual(drift(await l.check()), [['cg', undefined, undefined]]);
    await l.detach('cg');
    assert.deepEqual(attached(), []);
  } finally {
    await l.detach('cg').catch(() => {});
    cgroup.remove();
  }
});
