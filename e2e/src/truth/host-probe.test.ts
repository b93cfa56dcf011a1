// Issue #14 item 8: the host probe tells the truth, end to end: on the real edge and agent, a kprobe package is
// refused with the kernel's reason (this kernel has no kprobes), a tp_btf and a uprobe package run; bpftool judges.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Manifest } from '@bpfleet/sdk/manifest';
import { until } from '@bpfleet/sdk/test-kit';
import { buildPackage } from '../fixtures/package-build.js';
import { arch } from '../fixtures/test-packages.js';
import { kernelLinks, programsNamed } from './kernel-view.js';
import { type PublishedDevice, startPublishedDevice } from './published-device.js';

const PROGRAMS = fileURLToPath(new URL('../../src/truth/programs/', import.meta.url));
const CASES = [
  { id: 'h3p-kprobe', program: 'h3p_kprobe', file: 'h3p-kprobe.bpf.c', type: 'kprobe' },
  { id: 'h3p-tp-btf', program: 'h3p_tp_btf', file: 'h3p-tp-btf.bpf.c', type: 'tracing' },
  { id: 'h3p-uprobe', program: 'h3p_uprobe', file: 'h3p-uprobe.bpf.c', type: 'kprobe' },
] as const;

let d: PublishedDevice;
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'bpfleet-h3p-build-'));
  d = await startPublishedDevice({
    tag: 'h3p',
    block: 104,
    namespaces: ['h3p'],
    allow: () => ({ interfaces: [], cgroups: [] }),
  });
});

after(async () => {
  await d?.close();
  await rm(work, { recursive: true, force: true });
});

function manifest(c: (typeof CASES)[number]): Manifest {
  return {
    name: `h3p/${c.id.slice(4)}`,
    version: '1.0.0',
    license: 'GPL',
    programs: [{ name: c.program }],
    maps: { calls: { layout: { key: 'u32', value: 'u64' } } },
    requires: { arches: [arch as Manifest['requires']['arches'][number]], btf: true, programTypes: [c.type] },
  };
}

test('a kprobe package is refused with the kernel reason; tp_btf and uprobe packages run', async (t) => {
  let vmlinux: string | undefined;
  for (const [i, c] of CASES.entries()) {
    const built = await buildPackage({
      dir: join(work, String(i)),
      manifest: manifest(c),
      sources: [join(PROGRAMS, c.file)],
      ...(vmlinux && { vmlinux }),
    });
    vmlinux = built.vmlinux;
    await d.publish(built.archive);
  }
  t.after(async () => {
    await d.apply([]);
    await until(async () => (await d.reported()).length === 0, 'the device cleared', 20_000);
  });
  await d.apply(CASES.map((c) => ({ id: c.id, package: manifest(c).name, version: '1.0.0' })));
  let seen: unknown;
  await until(
    async () => {
      const programs = await d.reported();
      seen = programs.map((p) => [p.id, p.status, p.lastError?.code]);
      const by = (id: string) => programs.find((p) => p.id === id);
      return (
        by('h3p-kprobe')?.lastError?.code === 'REQUIREMENTS_NOT_MET' &&
        by('h3p-tp-btf')?.status === 'ATTACHED' &&
        by('h3p-uprobe')?.status === 'ATTACHED'
      );
    },
    'kprobe refused, tp_btf and uprobe attached, at the edge',
    30_000,
    () => [seen, d.agent.logs().slice(-5)],
  );
  const refused = (await d.reported()).find((p) => p.id === 'h3p-kprobe');
  t.diagnostic(`edge shows: ${refused?.lastError?.message}`);
  assert.match(
    refused?.lastError?.message ?? '',
    /host lacks attach type kprobe for program h3p_kprobe \(no kprobe support: CONFIG_KPROBES is off/,
  );
  // The kernel: no kprobe program loaded at all; the other two loaded and linked.
  assert.deepEqual(programsNamed(['h3p_kprobe']), [], 'the refused program was never loaded');
  const links = kernelLinks();
  for (const [name, type] of [
    ['h3p_tp_btf', 'tracing'],
    ['h3p_uprobe', 'kprobe'],
  ] as const) {
    const [prog] = programsNamed([name]);
    assert.equal(prog?.type, type, `${name} is loaded as a ${type} program`);
    assert.ok(
      links.some((l) => l.prog_id === prog?.id),
      `${name} has a link`,
    );
  }
  // The uprobe really fires: a getpid anywhere counts in its map.
  execFileSync('python3', ['-c', 'import os; os.getpid()']);
  const [uprobe] = programsNamed(['h3p_uprobe']);
  const mapId = uprobe?.map_ids?.find((id) => {
    const info = JSON.parse(
      execFileSync('bpftool', ['-j', 'map', 'show', 'id', String(id)], { encoding: 'utf8' }),
    );
    return info.name === 'calls';
  });
  assert.ok(mapId, 'the uprobe has its calls map');
  const entry = JSON.parse(
    execFileSync('bpftool', ['-j', 'map', 'lookup', 'id', String(mapId), 'key', '0', '0', '0', '0'], {
      encoding: 'utf8',
    }),
  ) as { value: string[] | number };
  const bytes = Array.isArray(entry.value) ? entry.value.map((b) => Number.parseInt(b, 16)) : [];
  assert.ok(
    bytes.some((b) => b !== 0),
    `the uprobe counted getpid calls: ${JSON.stringify(entry)}`,
  );
});
