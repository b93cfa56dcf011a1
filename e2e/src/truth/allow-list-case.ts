// Issue #14 item 2: a manifest's default attach point outside the device's allow-list (interface eth9, the root
// cgroup) is refused with ATTACH_NOT_ALLOWED, the edge shows why, and the kernel holds none of it.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { until } from '@bpfleet/sdk/test-kit';
import { cgroupPrograms, programsNamed, xdpOn } from './kernel-view.js';
import { cgroup2Root, type TruthDevice } from './truth-device.js';
import { ATTACH_TYPES, attachTypePackage, pingsPackage } from './truth-packages.js';

export async function allowListCase(d: TruthDevice, t: TestContext): Promise<void> {
  // eth9 exists in the device namespace: a fail-open agent would attach to it.
  d.net.inDevice('ip', ['link', 'add', 'eth9', 'type', 'veth', 'peer', 'name', 'h7t-eth9p']);
  t.after(() => {
    d.net.inDevice('ip', ['link', 'del', 'eth9']);
  });
  d.net.inDevice('ip', ['link', 'set', 'eth9', 'up']);
  d.net.inDevice('ip', ['link', 'set', 'h7t-eth9p', 'up']);
  const cgSkb = ATTACH_TYPES.find((c) => c.type === 'cgroup_skb')!;
  const rootSpec = attachTypePackage(cgSkb, { cgroup: '/' });
  rootSpec.manifest.name = 'acme/h7t-cgroot';
  const [eth9, root] = await Promise.all([
    d.release(pingsPackage('h7t-eth9', '1.0.0', { xdpAttach: { interface: 'eth9' } })),
    d.release(rootSpec),
  ]);
  t.after(() => d.clear());
  // The policy names no attach point: the manifests' defaults are the final targets.
  await d.apply([
    { id: 'h7t-eth9', package: eth9.name, version: eth9.version },
    { id: 'h7t-cgroot', package: root.name, version: root.version },
  ]);
  let seen: unknown;
  await until(
    async () => {
      const v = await d.view();
      seen = v.programs;
      return ['h7t-eth9', 'h7t-cgroot'].every(
        (id) => v.programs.find((p) => p.id === id)?.lastError?.code === 'ATTACH_NOT_ALLOWED',
      );
    },
    'both refused with ATTACH_NOT_ALLOWED at the edge',
    30_000,
    () => [seen, d.agent.logs().slice(-5)],
  );
  const eth9Report = await d.program('h7t-eth9');
  const rootReport = await d.program('h7t-cgroot');
  t.diagnostic(`edge shows: ${eth9Report?.lastError?.message} | ${rootReport?.lastError?.message}`);
  assert.match(eth9Report?.lastError?.message ?? '', /eth9/, 'the reason names the interface');
  assert.notEqual(eth9Report?.status, 'ATTACHED');
  assert.notEqual(rootReport?.status, 'ATTACHED');
  // Two more reconcile passes: a refusal that is retried and then attaches would show here.
  await sleep(2500);
  assert.equal(xdpOn(d.net.deviceNs, 'eth9'), undefined, 'nothing on eth9');
  assert.equal(xdpOn(d.net.deviceNs, d.net.wan), undefined, 'nothing on wan0');
  const onRoot = cgroupPrograms(cgroup2Root()).filter((p) => p.name === cgSkb.program);
  assert.deepEqual(onRoot, [], 'nothing on the root cgroup');
  assert.deepEqual(programsNamed(['h7t_xdp', cgSkb.program]), [], 'neither program is even loaded');
}
