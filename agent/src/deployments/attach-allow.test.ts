// The allow-list on final targets: default deny, the root cgroup only when listed, subtrees of a listed cgroup;
// and through BpfLoader, a manifest default outside the list is refused before anything is loaded.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BpfError } from '@bpfleet/sdk/errors';
import { assertAllowed } from './attach-allow.js';
import {
  kernelProgramIds,
  kernelPrograms,
  loaderEnv,
  objectSpec,
  pinnedLink,
  taggedCgroup,
  taggedVeth,
} from './loader-test-kit.js';

const root = '/sys/fs/cgroup/unified';
const refused = (fn: () => void, text: RegExp) =>
  assert.throws(
    fn,
    (err: unknown) => err instanceof BpfError && err.code === 'ATTACH_NOT_ALLOWED' && text.test(err.message),
  );

test('interfaces: only listed ones; empty lists allow nothing', () => {
  const allow = { interfaces: ['wan0'], cgroups: [] };
  assertAllowed('deploy a: program p', { kind: 'xdp', interface: 'wan0' }, allow, root);
  refused(
    () => assertAllowed('deploy a: program p', { kind: 'tcx', interface: 'eth9' }, allow, root),
    /^deploy a: program p would attach to interface eth9, which is not in this device's allow.interfaces$/,
  );
  refused(
    () => assertAllowed('x', { kind: 'xdp', interface: 'wan0' }, { interfaces: [], cgroups: [] }, root),
    /wan0/,
  );
  assertAllowed('x', { kind: 'auto' }, { interfaces: [], cgroups: [] }, root);
});

test('cgroups: a listed path allows its subtree, never a sibling prefix; the root only when "/" is listed', () => {
  const allow = { interfaces: [], cgroups: ['/lab'] };
  assertAllowed('x', { kind: 'cgroup', path: `${root}/lab` }, allow, root);
  assertAllowed('x', { kind: 'cgroup', path: `${root}/lab/app/1` }, allow, root);
  refused(() => assertAllowed('x', { kind: 'cgroup', path: `${root}/labx` }, allow, root), /cgroup \/labx/);
  refused(() => assertAllowed('x', { kind: 'cgroup', path: root }, allow, root), /cgroup \/,/);
  refused(() => assertAllowed('x', { kind: 'cgroup', path: `${root}/lab/../x` }, allow, root), /cgroup/);
  assertAllowed('x', { kind: 'cgroup', path: root }, { interfaces: [], cgroups: ['/'] }, root);
});

const env = loaderEnv();
const veth = taggedVeth();
let cgroup: ReturnType<typeof taggedCgroup>;

before(() => {
  veth.create();
  cgroup = taggedCgroup();
});
after(async () => {
  const l = env.loader({ interfaces: [veth.name], cgroups: ['/'] });
  for (const d of await l.adopt().catch(() => [])) await l.detach(d.id).catch(() => {});
  env.cleanup();
  veth.remove();
  cgroup.remove();
});

test('BpfLoader refuses a manifest default outside the allow-list before loading anything', async () => {
  const loader = env.loader({ interfaces: [veth.name], cgroups: [cgroup.rel] });
  const programsBefore = kernelProgramIds();
  // The package's own default interface, with a policy that names none.
  const eth9 = await objectSpec(
    'allow-eth9',
    'kind_xdp',
    [{ name: 'kind_xdp', attach: { interface: 'eth9' } }],
    {},
  );
  await assert.rejects(
    loader.attach(eth9),
    (err: unknown) =>
      err instanceof BpfError &&
      err.code === 'ATTACH_NOT_ALLOWED' &&
      err.message ===
        "deploy allow-eth9: program kind_xdp would attach to interface eth9, which is not in this device's allow.interfaces",
  );
  // cgroup `/` as app-traffic ships it: the root is refused unless listed.
  const rootCgroup = await objectSpec('allow-root', 'kind_cgroup_skb', [{ name: 'kind_cgroup_skb' }], {});
  await assert.rejects(loader.attach(rootCgroup), /would attach to cgroup \/, which is not under/);
  const ours = kernelPrograms().filter((p) => !programsBefore.has(p.id) && p.name?.startsWith('kind_'));
  assert.deepEqual(ours, [], 'nothing was loaded');
  assert.equal(existsSync(join(env.pinRoot, 'allow-eth9')), false);
  assert.deepEqual(await loader.adopt(), []);

  // Inside the list: the policy's cgroup below a listed one attaches.
  const sub = await objectSpec('allow-sub', 'kind_cgroup_skb', [{ name: 'kind_cgroup_skb' }], {
    cgroup: cgroup.rel,
  });
  await loader.attach(sub);
  assert.ok(pinnedLink(join(env.pinRoot, 'allow-sub', 'links', 'kind_cgroup_skb')).prog_id > 0);
  await loader.detach('allow-sub');
});
