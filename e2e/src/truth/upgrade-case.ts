// Issue #14 item 6: upgrades that change the program set (v1 XDP → v2 XDP + tcx → v3 XDP again) lose no packet
// under 5 ms pings, and afterwards the kernel runs exactly the new version's programs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { until } from '@bpfleet/sdk/test-kit';
import type { SignedPackage } from '../fixtures/test-packages.js';
import { kernelLinks, kernelPrograms, programsNamed, xdpOn } from './kernel-view.js';
import type { TruthDevice } from './truth-device.js';
import { pingsPackage } from './truth-packages.js';

const ID = 'h7t-up';
const PINGS = 600;

export async function upgradeCase(d: TruthDevice, t: TestContext): Promise<void> {
  const [v1, v2, v3] = await Promise.all([
    d.release(pingsPackage('h7t-pings', '1.0.0')),
    d.release(pingsPackage('h7t-pings', '2.0.0', { withTcx: true })),
    d.release(pingsPackage('h7t-pings', '3.0.0')),
  ]);
  t.after(() => d.clear());
  const deploy = (pkg: SignedPackage) =>
    d.apply([{ id: ID, package: pkg.name, version: pkg.version, attach: { interface: d.net.wan } }]);
  await deploy(v1);
  await running(d, '1.0.0', 30_000);
  const p1 = xdpOn(d.net.deviceNs, d.net.wan);
  assert.equal(p1?.name, 'h7t_xdp');
  assert.deepEqual(programsNamed(['h7t_tcx']), [], 'v1 has no tcx program');

  await t.test('v1 → v2 adds a tcx program without losing a packet', async () => {
    const seen = counts(d)[0] ?? 0;
    await underPings(d, t, () => deploy(v2), '2.0.0');
    // `counts` is persistent: v2 carries v1's map over, so every ping is counted once, before or after the swap.
    assert.ok((counts(d)[0] ?? 0) >= seen + PINGS, `v1's ${seen} pings kept and all ${PINGS} counted`);
    const xdp = xdpOn(d.net.deviceNs, d.net.wan);
    assert.equal(xdp?.name, 'h7t_xdp', 'v2’s XDP program on the hook');
    assert.notEqual(xdp?.id, p1?.id, 'v2 loaded its own XDP program');
    const tcx = attachedNamed('h7t_tcx');
    assert.equal(tcx.length, 1, `one attached h7t_tcx: ${JSON.stringify(tcx)}`);
    // Where it is attached: it counts the pings arriving on wan0 (slot 1 of the shared counts map).
    const before = counts(d)[1] ?? 0;
    assert.equal((await d.net.ping(5)).received, 5);
    assert.ok((counts(d)[1] ?? 0) >= before + 5, 'the tcx program sees wan0’s ingress');
    await unloaded(p1?.id);
  });

  await t.test('v2 → v3 removes the tcx program without losing a packet', async () => {
    const p2 = xdpOn(d.net.deviceNs, d.net.wan);
    const tcx = attachedNamed('h7t_tcx').map((p) => p.id);
    const seen = counts(d)[0] ?? 0;
    await underPings(d, t, () => deploy(v3), '3.0.0');
    assert.ok((counts(d)[0] ?? 0) >= seen + PINGS, `v2's ${seen} pings kept and all ${PINGS} counted`);
    const xdp = xdpOn(d.net.deviceNs, d.net.wan);
    assert.equal(xdp?.name, 'h7t_xdp', 'v3’s XDP program on the hook');
    assert.notEqual(xdp?.id, p2?.id, 'v3 loaded its own XDP program');
    assert.deepEqual(attachedNamed('h7t_tcx'), [], 'no tcx program attached any more');
    for (const id of tcx) await unloaded(id);
    await unloaded(p2?.id);
  });
}

/** Pings every 5 ms from the peer while `change` runs; the version is running before the pings end; none lost. */
async function underPings(d: TruthDevice, t: TestContext, change: () => Promise<unknown>, version: string) {
  const pinging = d.net.ping(PINGS, 0.005);
  let pingsDone = false;
  void pinging.then(() => {
    pingsDone = true;
  });
  await sleep(300);
  await change();
  await running(d, version, 30_000);
  assert.equal(
    pingsDone,
    false,
    `${version} ran before the ${PINGS} pings ended (the upgrade happened under them)`,
  );
  const result = await pinging;
  t.diagnostic(`${version}: ${result.received}/${result.sent} pings`);
  assert.equal(result.sent, PINGS);
  assert.equal(result.received, result.sent, `no packet lost across the upgrade to ${version}`);
}

async function running(d: TruthDevice, version: string, timeoutMs: number): Promise<void> {
  let seen: unknown;
  await until(
    async () => {
      const p = await d.program(ID);
      seen = p;
      return p?.status === 'ATTACHED' && p.version === version;
    },
    `${ID} ${version} attached`,
    timeoutMs,
    () => [seen, d.agent.logs().slice(-5)],
  );
}

/** Programs of this name that some link runs. */
function attachedNamed(name: string) {
  const links = kernelLinks();
  return programsNamed([name]).filter((p) => links.some((l) => l.prog_id === p.id));
}

async function unloaded(id: number | undefined): Promise<void> {
  await until(() => !kernelPrograms().some((p) => p.id === id), `program ${id} unloaded`, 5000);
}

/** The `counts` map's u64 slots, found through the program on the XDP hook (bpftool). */
function counts(d: TruthDevice): number[] {
  const onHook = xdpOn(d.net.deviceNs, d.net.wan);
  const mapIds = kernelPrograms().find((p) => p.id === onHook?.id)?.map_ids ?? [];
  const bpftool = (args: string[]) =>
    JSON.parse(execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8' }));
  const id = mapIds.find(
    (m) => (bpftool(['map', 'show', 'id', String(m)]) as { name?: string }).name === 'counts',
  );
  assert.ok(id !== undefined, `the XDP program ${onHook?.id} uses a counts map (${mapIds})`);
  const dump = bpftool(['map', 'dump', 'id', String(id)]) as Array<{ value: Array<string | number> }>;
  return dump.map((e) => Number(Buffer.from(e.value.map((b) => Number(b))).readBigUInt64LE()));
}
