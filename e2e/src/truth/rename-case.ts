// Issue #14 item 5: renaming a deployment id on the same XDP hook never leaves the hook empty (a 1 ms poll of the
// kernel sees a program at every sample) and leaves nothing of the old id behind.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { until } from '@bpfleet/sdk/test-kit';
import { pinsUnder } from '../fixtures/kernel-state.js';
import { kernelLinks, kernelPrograms, xdpOn } from './kernel-view.js';
import type { TruthDevice } from './truth-device.js';
import { pingsPackage } from './truth-packages.js';
import { pollXdp } from './xdp-poller.js';

export async function renameCase(d: TruthDevice, t: TestContext): Promise<void> {
  const pkg = await d.release(pingsPackage('h7t-pings', '1.0.0'));
  t.after(() => d.clear());
  const entry = (id: string) => ({
    id,
    package: pkg.name,
    version: pkg.version,
    attach: { interface: d.net.wan },
    config: { drop_icmp: 1 },
  });
  await d.apply([entry('h7t-old')]);
  await until(
    async () => (await d.program('h7t-old'))?.status === 'ATTACHED',
    'h7t-old attached',
    30_000,
    () => d.agent.logs().slice(-5),
  );
  const oldProg = xdpOn(d.net.deviceNs, d.net.wan);
  assert.equal(oldProg?.name, 'h7t_xdp', 'the old id’s program is on the hook');

  const poller = await pollXdp(d.net.deviceNs, d.net.wan, 1);
  let samples: Awaited<ReturnType<typeof poller.stop>> = [];
  try {
    await d.apply([entry('h7t-new')]);
    let seen: unknown;
    await until(
      async () => {
        const v = await d.view();
        seen = v.programs;
        return (
          v.programs.some((p) => p.id === 'h7t-new' && p.status === 'ATTACHED') &&
          !v.programs.some((p) => p.id === 'h7t-old')
        );
      },
      'h7t-new attached and h7t-old gone at the edge',
      30_000,
      () => [seen, d.agent.logs().slice(-5)],
    );
    await until(
      () => !pinsUnder(d.pinRoot).some((p) => p.startsWith('h7t-old/')),
      'the old pins gone',
      10_000,
    );
  } finally {
    samples = await poller.stop();
  }
  const empty = samples.filter((s) => s.progId === undefined);
  const gaps = samples
    .slice(1)
    .map((s, i) => s.at - (samples[i]?.at ?? 0))
    .sort((a, b) => a - b);
  const span = (samples.at(-1)?.at ?? 0) - (samples[0]?.at ?? 0);
  t.diagnostic(
    `${samples.length} samples over ${Math.round(span)} ms, gap median ${gaps[gaps.length >> 1]?.toFixed(1)} ms, ` +
      `largest ${gaps.at(-1)?.toFixed(1)} ms, programs seen ${[...new Set(samples.map((s) => s.progId))]}`,
  );
  assert.ok(
    samples.length >= span / 3,
    `a sample every 3 ms or less on average (1 ms asked, a busy 2-core machine): ${samples.length} samples in ${Math.round(span)} ms`,
  );
  assert.deepEqual(
    empty.map((s) => Math.round(s.at)),
    [],
    'the XDP hook was never empty during the rename (ms of each empty sample)',
  );

  // Nothing of the old id: no pin, one link on the hook, the program it ran (when replaced) unloaded.
  assert.deepEqual(
    pinsUnder(d.pinRoot).filter((p) => !p.startsWith('h7t-new/')),
    [],
    'only the new id’s pins',
  );
  const now = xdpOn(d.net.deviceNs, d.net.wan);
  assert.equal(now?.name, 'h7t_xdp', 'the program stays on the hook');
  // The samples span the whole hand-over: they start on the old id's program and end on what runs now.
  assert.equal(samples[0]?.progId, oldProg?.id, 'the first sample saw the old program');
  assert.equal(samples.at(-1)?.progId, now?.id, 'the last sample saw the program that runs now');
  // (ifindexes repeat across namespaces: links are found by the program they run.)
  const running = kernelLinks().filter((l) => l.prog_id === now?.id);
  assert.equal(running.length, 1, `one link runs the hook's program: ${JSON.stringify(running)}`);
  if (now?.id !== oldProg?.id) {
    await until(
      () => !kernelPrograms().some((p) => p.id === oldProg?.id),
      `the old program ${oldProg?.id} unloaded`,
      5000,
    );
  }
  assert.equal((await d.net.ping(3)).received, 0, 'the firewall still drops');
}
