// Issue #14 item 3: removing a deployment of each attach type (xdp, tcx, cgroup_skb, sock_addr, sockops, tp_btf,
// raw_tp, tracepoint) leaves nothing: no link, no program, no map, no pin, no file descriptor in the agent.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { until } from '@bpfleet/sdk/test-kit';
import { pinsUnder } from '../fixtures/kernel-state.js';
import { heldBy, kernelLinks, kernelMapIds, kernelPrograms, programsNamed } from './kernel-view.js';
import type { PolicyPrograms, TruthDevice } from './truth-device.js';
import { ATTACH_TYPES, attachTypePackage, pingsPackage } from './truth-packages.js';

interface Deployed {
  type: string;
  id: string;
  program: string;
  progIds: number[];
  linkIds: number[];
  mapIds: number[];
}

export async function removalCase(d: TruthDevice, t: TestContext): Promise<void> {
  const before = new Set(kernelPrograms().map((p) => p.id));
  const entries: PolicyPrograms = [];
  const cases: Array<{ type: string; id: string; program: string }> = [];
  const [xdp, ...pkgs] = await Promise.all([
    d.release(pingsPackage('h7t-pings', '1.0.0')),
    ...ATTACH_TYPES.map((c) => d.release(attachTypePackage(c))),
  ]);
  entries.push({
    id: 'h7t-rm-xdp',
    package: xdp.name,
    version: xdp.version,
    attach: { interface: d.net.wan },
  });
  cases.push({ type: 'xdp', id: 'h7t-rm-xdp', program: 'h7t_xdp' });
  for (const [i, c] of ATTACH_TYPES.entries()) {
    const pkg = pkgs[i]!;
    const id = `h7t-rm-${c.type.replace('_', '-')}`;
    const attach =
      c.target === 'interface'
        ? { interface: d.net.wan }
        : c.target === 'cgroup'
          ? { cgroup: d.cgroup }
          : undefined;
    entries.push({ id, package: pkg.name, version: pkg.version, ...(attach && { attach }) });
    cases.push({ type: c.type, id, program: c.program });
  }
  t.after(() => d.clear());
  await d.apply(entries);
  let seen: unknown;
  await until(
    async () => {
      const v = await d.view();
      seen = v.programs.map((p) => [p.id, p.status, p.lastError?.code]);
      return cases.every((c) => v.programs.find((p) => p.id === c.id)?.status === 'ATTACHED');
    },
    'every attach type attached',
    60_000,
    () => [seen, d.agent.logs().slice(-5)],
  );

  // What the kernel holds for each, found by program name among the programs loaded since the case began.
  const links = kernelLinks();
  const progs = kernelPrograms().filter((p) => !before.has(p.id));
  const deployed: Deployed[] = cases.map((c) => {
    const mine = progs.filter((p) => p.name === c.program);
    return {
      ...c,
      progIds: mine.map((p) => p.id),
      linkIds: links.filter((l) => mine.some((p) => p.id === l.prog_id)).map((l) => l.id),
      mapIds: mine.flatMap((p) => p.map_ids ?? []),
    };
  });
  for (const dep of deployed) {
    assert.equal(dep.progIds.length, 1, `${dep.type}: one ${dep.program} loaded`);
    assert.ok(dep.linkIds.length >= 1, `${dep.type}: ${dep.program} runs through a link`);
  }

  const removedAt = Date.now();
  await d.apply([]);
  await until(
    async () => {
      const v = await d.view();
      const removed = (await d.events(removedAt)).filter((e) => e.state === 'REMOVED');
      seen = [v.programs.map((p) => [p.id, p.status]), removed.map((e) => e.deployment)];
      return v.programs.length === 0 && cases.every((c) => removed.some((e) => e.deployment === c.id));
    },
    'no deployment left at the edge, a REMOVED event for each',
    30_000,
    () => [seen, d.agent.logs().slice(-5)],
  );
  for (const dep of deployed) {
    await t.test(`${dep.type} leaves nothing`, async () => {
      let left: unknown;
      // Program and map ids are freed after an RCU grace period: a moment, never seconds.
      await until(
        () => {
          left = leftovers(d, dep);
          return Object.values(left as Record<string, unknown[]>).every((l) => l.length === 0);
        },
        `${dep.type}: nothing left`,
        5000,
        () => left,
      );
    });
  }
  assert.deepEqual(programsNamed(cases.map((c) => c.program)), [], 'none of the programs is loaded');
  // With nothing deployed the agent has no reason to hold any link or program open.
  const held = heldBy(d.agent.pid);
  t.diagnostic(
    `the agent holds ${held.links.size} links, ${held.programs.size} programs, ${held.maps.size} maps`,
  );
  assert.deepEqual([...held.links], [], 'the agent holds no link fd');
  assert.deepEqual([...held.programs], [], 'the agent holds no program fd');
}

function leftovers(d: TruthDevice, dep: Deployed): Record<string, unknown[]> {
  const held = heldBy(d.agent.pid);
  const maps = kernelMapIds();
  const progs = new Set(kernelPrograms().map((p) => p.id));
  return {
    links: kernelLinks().filter((l) => dep.linkIds.includes(l.id) || dep.progIds.includes(l.prog_id)),
    programs: dep.progIds.filter((id) => progs.has(id)),
    maps: dep.mapIds.filter((id) => maps.has(id)),
    pins: pinsUnder(join(d.pinRoot, dep.id)),
    agentFds: [
      ...dep.progIds.filter((id) => held.programs.has(id)).map((id) => `prog ${id}`),
      ...dep.linkIds.filter((id) => held.links.has(id)).map((id) => `link ${id}`),
      ...dep.mapIds.filter((id) => held.maps.has(id)).map((id) => `map ${id}`),
    ],
  };
}
