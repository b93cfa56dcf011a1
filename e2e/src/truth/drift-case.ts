// Issue #14 item 4: what changes in the kernel behind the agent's back (a link pin deleted, the XDP program taken
// off the interface, the interface gone and back) is reported DRIFTED at the edge and repaired within 10 s.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { until } from '@bpfleet/sdk/test-kit';
import { pinsUnder } from '../fixtures/kernel-state.js';
import { kernelLinks, xdpOn } from './kernel-view.js';
import { type TruthDevice, tryInDevice } from './truth-device.js';
import { pingsPackage } from './truth-packages.js';

const ID = 'h7t-fw';
const REPAIR_MS = 10_000;

export async function driftCase(d: TruthDevice, t: TestContext): Promise<void> {
  const pkg = await d.release(pingsPackage('h7t-pings', '1.0.0'));
  t.after(() => d.clear());
  await d.apply([
    {
      id: ID,
      package: pkg.name,
      version: pkg.version,
      attach: { interface: d.net.wan },
      config: { drop_icmp: 1 },
    },
  ]);
  await attached(d, 30_000);
  assert.equal((await d.net.ping(3)).received, 0, 'the firewall drops the peer’s pings');
  const countedBefore = driftsCounted(d);
  let drifts = 0;

  await t.test('a deleted link pin', async () => {
    await attached(d, 10_000);
    const t0 = Date.now();
    const links = pinsUnder(join(d.pinRoot, ID)).filter((p) => p.startsWith('links/'));
    assert.ok(links.length > 0, `link pins of ${ID}: ${pinsUnder(d.pinRoot)}`);
    // What an unprivileged user with write access to a 1777 bpffs could do.
    for (const pin of links) rmSync(join(d.pinRoot, ID, pin));
    drifts++;
    await repaired(d, t0, 'link pin deleted');
    assert.deepEqual(
      pinsUnder(join(d.pinRoot, ID)).filter((p) => p.startsWith('links/')),
      links,
      'the link pins are back',
    );
  });

  await t.test('ip link set dev wan0 xdp off', async (st) => {
    const before = await attached(d, 10_000);
    const t0 = Date.now();
    const off = tryInDevice(d.net, 'ip', ['link', 'set', 'dev', d.net.wan, 'xdp', 'off']);
    if (off.ok) {
      drifts++;
      await repaired(d, t0, 'xdp off');
      return;
    }
    // A program attached through a BPF link cannot be taken off by netlink: nothing drifted, nothing to report.
    st.diagnostic(`the kernel refused: ${off.out.trim()}`);
    await sleep(3000);
    assert.equal(xdpOn(d.net.deviceNs, d.net.wan)?.id, before, 'the same program stays on the hook');
    const drifted = (await d.events(t0)).filter((e) => e.state === 'DRIFTED');
    assert.deepEqual(drifted, [], 'no drift reported where the kernel changed nothing');
  });

  await t.test('bpftool link detach (another root process takes the program off)', async (st) => {
    const before = await attached(d, 10_000);
    const link = kernelLinks().find((l) => l.prog_id === before);
    assert.ok(link, `a link runs program ${before}`);
    const t0 = Date.now();
    execFileSync('bpftool', ['link', 'detach', 'id', String(link.id)]);
    drifts++;
    // The repair below must include a DRIFTED event: a detach that changed nothing could not pass it.
    st.diagnostic(
      `right after the detach the hook holds ${JSON.stringify(xdpOn(d.net.deviceNs, d.net.wan))}`,
    );
    await repaired(d, t0, 'link detached');
  });

  await t.test('the interface deleted and re-created (hotplug)', async () => {
    await attached(d, 10_000);
    const t0 = Date.now();
    d.net.deleteWan();
    drifts++;
    let events: unknown;
    await until(
      async () => {
        const drifted = (await d.events(t0)).filter((e) => e.state === 'DRIFTED' && e.deployment === ID);
        events = drifted;
        return drifted.length > 0;
      },
      'a DRIFTED event at the edge while the interface is gone',
      REPAIR_MS,
      () => [events, d.agent.logs().slice(-5)],
    );
    assert.equal((await d.program(ID))?.status, 'DRIFTED', 'the edge shows the deployment DRIFTED');
    const t1 = Date.now();
    d.net.createWan();
    await repaired(d, t1, 'interface re-created', false);
  });

  await t.test('each drift is counted in the agent’s metrics', () => {
    assert.ok(
      driftsCounted(d) >= countedBefore + drifts,
      `bpfleet_agent_drift_total for ${ID}: ${driftsCounted(d)}, before ${countedBefore}, drifts ${drifts}`,
    );
  });
}

/** Waits for the deployment ATTACHED at the edge with its program on wan0; returns the program id. */
async function attached(d: TruthDevice, timeoutMs: number): Promise<number> {
  let seen: unknown;
  await until(
    async () => {
      const p = await d.program(ID);
      seen = [p, xdpOn(d.net.deviceNs, d.net.wan)];
      return p?.status === 'ATTACHED' && xdpOn(d.net.deviceNs, d.net.wan)?.name === 'h7t_xdp';
    },
    `${ID} attached on ${d.net.wan}`,
    timeoutMs,
    () => [seen, d.agent.logs().slice(-5)],
  );
  return xdpOn(d.net.deviceNs, d.net.wan)!.id;
}

/** Within 10 s of `since`: a DRIFTED event at the edge (unless already required) and the program back on the hook. */
async function repaired(d: TruthDevice, since: number, what: string, needEvent = true): Promise<void> {
  let seen: unknown;
  const deadline = since + REPAIR_MS;
  await until(
    async () => {
      const drifted = (await d.events(since)).some((e) => e.state === 'DRIFTED' && e.deployment === ID);
      const onHook = xdpOn(d.net.deviceNs, d.net.wan);
      seen = { drifted, onHook };
      return (drifted || !needEvent) && onHook?.name === 'h7t_xdp';
    },
    `${what}: DRIFTED at the edge and the program back on ${d.net.wan} within 10 s`,
    Math.max(0, deadline - Date.now()),
    () => [seen, d.agent.logs().slice(-5)],
  );
  await until(
    async () => (await d.program(ID))?.status === 'ATTACHED',
    `${what}: ATTACHED again at the edge`,
    10_000,
  );
  assert.equal((await d.net.ping(3)).received, 0, `${what}: the peer's pings are dropped again`);
}

/** bpfleet_agent_drift_total for the deployment, summed over codes, from the agent's metrics in its namespace. */
function driftsCounted(d: TruthDevice): number {
  const text = execFileSync(
    'nsenter',
    [`--net=/run/netns/${d.net.deviceNs}`, 'curl', '-sf', 'http://127.0.0.1:9465/metrics'],
    { encoding: 'utf8' },
  );
  const re = new RegExp(`^bpfleet_agent_drift_total\\{[^}]*deployment="${ID}"[^}]*\\} (\\S+)$`, 'gm');
  return [...text.matchAll(re)].reduce((sum, m) => sum + Number(m[1]), 0);
}
