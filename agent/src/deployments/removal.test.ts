// Removal removes, for every attach type: after BpfLoader.detach the kernel (bpftool) shows no link and no program
// of the deployment and this process holds no fd to them, also where the link type cannot be detached.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { PolicyAttach } from '@bpfleet/sdk/policy';
import { until } from '@bpfleet/sdk/test-kit';
import {
  heldBpfIds,
  kernelLinks,
  kernelProgramIds,
  loaderEnv,
  objectSpec,
  pinnedLink,
  taggedCgroup,
  taggedVeth,
} from './loader-test-kit.js';

const env = loaderEnv();
const veth = taggedVeth();
let cgroup: ReturnType<typeof taggedCgroup>;
const loader = () => env.loader({ interfaces: [veth.name], cgroups: [cgroup.rel] });

before(() => {
  veth.create();
  cgroup = taggedCgroup();
});
after(async () => {
  const l = loader();
  for (const d of await l.adopt().catch(() => [])) await l.detach(d.id).catch(() => {});
  env.cleanup();
  veth.remove();
  cgroup.remove();
});

const kinds: Array<[kind: string, attach: () => PolicyAttach]> = [
  ['xdp', () => ({ interface: veth.name })],
  ['tcx', () => ({ interface: veth.name })],
  ['cgroup_skb', () => ({ cgroup: cgroup.rel })],
  ['connect4', () => ({ cgroup: cgroup.rel })],
  ['sockops', () => ({ cgroup: cgroup.rel })],
  ['tp_btf', () => ({})],
  ['raw_tp', () => ({})],
  ['tracepoint', () => ({})],
];

for (const [kind, attach] of kinds) {
  test(`removing a ${kind} deployment leaves no link, program or fd`, async () => {
    const l = loader();
    const id = `rm-${kind.replace(/_/g, '-')}`;
    await l.attach(await objectSpec(id, `kind_${kind}`, [{ name: `kind_${kind}` }], attach()));
    const pin = join(env.pinRoot, id, 'links', `kind_${kind}`);
    const link = pinnedLink(pin);
    assert.ok(
      kernelLinks().some((k) => k.id === link.id && k.prog_id === link.prog_id),
      'attached',
    );
    assert.ok(kernelProgramIds().has(link.prog_id));
    assert.ok(heldBpfIds().links.has(link.id), 'the loader holds the link fd while it runs');

    await l.detach(id);

    assert.equal(existsSync(join(env.pinRoot, id)), false, 'pins gone');
    // Link and program ids leave the kernel's tables when their last reference is dropped.
    await until(() => !kernelLinks().some((k) => k.id === link.id), `link ${link.id} to leave`, 2000);
    await until(() => !kernelProgramIds().has(link.prog_id), `program ${link.prog_id} to leave`, 2000);
    const held = heldBpfIds();
    assert.equal(held.links.has(link.id), false, 'no fd to the link');
    assert.equal(held.progs.has(link.prog_id), false, 'no fd to the program');
    assert.deepEqual(await loader().adopt(), []);
  });
}
