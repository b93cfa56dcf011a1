// Kernel test: a bcc-style log2 histogram, a per-bucket per-CPU histogram and a nested struct, written by a real
// XDP program run on packets of known sizes (BPF_PROG_TEST_RUN), read back through pins as Prometheus text.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Collection, loadCollection, testRun, u32 } from '@bpfleet/sdk/bpf';
import { decodeLayoutValue, type Manifest, parseManifest } from '@bpfleet/sdk/manifest';
import { readMapMetrics } from '../deployments/map-metrics.js';
import { silentLogger } from '../logger.js';
import { arch, compileTestObject } from '../testing/kernel-fixtures.js';
import { renderProgramMetrics } from './program-exposition.js';
import { promtoolProblems } from './promtool.js';

const manifest: Manifest = parseManifest({
  name: 'mtr/size-hist',
  version: '1.0.0',
  license: 'GPL',
  programs: [{ name: 'size_hist' }],
  requires: { arches: [arch] },
  globals: {
    vars: { largest: 'u32', packets_seen: 'u64', bytes_seen: 'u64' },
    metrics: [
      {
        name: 'mtr_packets_seen_total',
        type: 'counter',
        help: 'Packets (a .bss global)',
        value: 'packets_seen',
      },
      { name: 'mtr_seen_bytes_total', type: 'counter', help: 'Bytes (a .bss global)', value: 'bytes_seen' },
      {
        name: 'mtr_largest_packet_bytes',
        type: 'gauge',
        help: 'Largest packet (a .data global)',
        value: 'largest',
      },
    ],
  },
  maps: {
    sizes: {
      layout: {
        key: { type: 'enum', of: 'u32', names: { '0': 'all', '1': 'odd' } },
        value: { slots: { type: 'array', of: 'u32', length: 26 }, sum: 'u64' },
      },
      metrics: [
        {
          name: 'mtr_packet_size_bytes',
          type: 'histogram',
          help: 'Packet sizes (bcc slots)',
          value: 'slots',
          sum: 'sum',
          buckets: { kind: 'log2' },
          labels: { packets: 'key' },
        },
      ],
    },
    size_buckets: {
      layout: { key: { parity: 'u32', slot: 'u32' }, value: 'u64' },
      metrics: [
        {
          name: 'mtr_packet_size_by_parity_bytes',
          type: 'histogram',
          help: 'Packet sizes, an entry per bucket',
          bucket: 'slot',
          buckets: { kind: 'log2' },
          labels: { parity: 'parity' },
          perCpu: 'sum',
        },
      ],
    },
    last: {
      layout: {
        key: 'u32',
        value: {
          len: 'u32',
          tag: { type: 'string', size: 8 },
          inner: { kind: { type: 'enum', of: 'u8', names: { '0': 'even', '1': 'odd' } }, runs: 'u64' },
          recent: { type: 'array', of: 'u16', length: 4 },
        },
      },
      metrics: [
        { name: 'mtr_last_packet_runs', type: 'gauge', help: 'Packets the struct saw', value: 'inner.runs' },
      ],
    },
  },
});

// Sizes a seeded generator picks from 14 (an Ethernet header) to 3000 bytes, plus every power-of-two edge.
function sizes(): number[] {
  const out = [14, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 511, 512, 1023, 1024, 2047, 2048];
  let seed = 0x6d7472;
  for (let i = 0; i < 600; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    out.push(14 + (seed % 2987));
  }
  return out;
}

const dir = `/sys/fs/bpf/bpfleet-mtr-${randomBytes(4).toString('hex')}`;
let coll: Collection;
const sent = sizes();

before(async () => {
  coll = await loadCollection(compileTestObject('mtr_histogram'));
  mkdirSync(dir);
  for (const name of ['sizes', 'size_buckets', 'last']) coll.map(name).pin(join(dir, name));
  // What the loader does for a manifest with globals: the data sections pinned as `__bss` and `__data`.
  for (const [name, map] of coll.maps) {
    for (const section of ['bss', 'data'])
      if (name.endsWith(`.${section}`)) map.pin(join(dir, `__${section}`));
  }
  for (const len of sent) assert.equal(testRun(coll.program('size_hist'), new Uint8Array(len)).retval, 2);
});

after(() => {
  coll?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Prometheus text → value by `name{labels}` (labels in the order written). */
function samples(text: string): Map<string, number> {
  return new Map([...text.matchAll(/^(\S+\{[^}]*\}) (\S+)$/gm)].map((m) => [m[1] ?? '', Number(m[2])]));
}

test('a bcc-style log2 histogram reads back as a Prometheus histogram matching a brute-force count', () => {
  const metrics = readMapMetrics(
    { deployment: 'h', package: 'mtr/size-hist', version: '1.0.0' },
    dir,
    manifest.maps ?? {},
    silentLogger,
  );
  const text = renderProgramMetrics(metrics);
  assert.deepEqual(promtoolProblems(text), []);
  const got = samples(text);
  const fixed = 'deployment="h",package="mtr/size-hist",version="1.0.0"';
  let checked = 0;
  for (const [label, pick] of [
    ['all', () => true],
    ['odd', (n: number) => n % 2 === 1],
  ] as const) {
    const mine = sent.filter(pick);
    // bcc slot n holds [2^(n-1), 2^n - 1]: le for slot n is 2^n - 1; the last slot (25) is +Inf.
    for (let n = 0; n < 25; n++) {
      const le = 2 ** n - 1;
      const key = `mtr_packet_size_bytes_bucket{${fixed},packets="${label}",le="${le}"}`;
      assert.equal(got.get(key), mine.filter((s) => s <= le).length, key);
      checked++;
    }
    assert.equal(got.get(`mtr_packet_size_bytes_bucket{${fixed},packets="${label}",le="+Inf"}`), mine.length);
    assert.equal(got.get(`mtr_packet_size_bytes_count{${fixed},packets="${label}"}`), mine.length);
    assert.equal(
      got.get(`mtr_packet_size_bytes_sum{${fixed},packets="${label}"}`),
      mine.reduce((a, b) => a + b, 0),
    );
  }
  assert.equal(checked, 50);
  for (const parity of [0, 1]) {
    const mine = sent.filter((s) => s % 2 === parity);
    const buckets = [...got].filter(([k]) =>
      k.startsWith(`mtr_packet_size_by_parity_bytes_bucket{${fixed},parity="${parity}",`),
    );
    assert.ok(buckets.length >= 5, `parity ${parity}: ${buckets.length} buckets`);
    for (const [key, count] of buckets) {
      const le = Number(/le="([^"]+)"/.exec(key)?.[1]?.replace('+Inf', 'Infinity'));
      assert.equal(count, mine.filter((s) => s <= le).length, key);
    }
  }
});

test('a nested struct with a char array, an enum and an array decodes as the program wrote it', () => {
  const raw = coll.map('last').lookup(u32(0));
  assert.ok(raw);
  const layout = manifest.maps?.last?.layout?.value;
  assert.ok(layout);
  const recent = [0, 0, 0, 0];
  sent.forEach((len, i) => {
    recent[(i + 1) & 3] = len;
  });
  const lastLen = sent[sent.length - 1] as number;
  assert.deepEqual(decodeLayoutValue(layout, raw), {
    len: lastLen,
    tag: 'mtr-hst',
    inner: { kind: lastLen % 2 ? 'odd' : 'even', runs: sent.length },
    recent,
  });
  // The kernel's own view of the same bytes (bpftool formats them by the object's BTF).
  const dump = JSON.parse(
    execFileSync('bpftool', ['-j', 'map', 'dump', 'pinned', join(dir, 'last')], { encoding: 'utf8' }),
  );
  const formatted = dump[0].formatted.value;
  assert.equal(formatted.len, lastLen);
  assert.equal(formatted.inner.runs, sent.length);
  assert.deepEqual(formatted.recent, recent);
  const gauge = readMapMetrics(
    { deployment: 'h', package: 'p/q', version: '1.0.0' },
    dir,
    manifest.maps ?? {},
    silentLogger,
  ).find((m) => m.name === 'mtr_last_packet_runs');
  assert.equal(gauge?.value, sent.length);
});

test('globals in .bss and .data read by their BTF offsets as the program wrote them', () => {
  const owner = { deployment: 'h', package: 'mtr/size-hist', version: '1.0.0' };
  const metrics = readMapMetrics(owner, dir, {}, silentLogger, manifest.globals);
  const value = (name: string) => metrics.find((m) => m.name === name)?.value;
  assert.equal(value('mtr_packets_seen_total'), sent.length);
  assert.equal(
    value('mtr_seen_bytes_total'),
    sent.reduce((a, b) => a + b, 0),
  );
  assert.equal(value('mtr_largest_packet_bytes'), Math.max(...sent));
  // The kernel's view of .bss, formatted by its BTF DATASEC.
  const dump = JSON.parse(
    execFileSync('bpftool', ['-j', 'map', 'dump', 'pinned', join(dir, '__bss')], { encoding: 'utf8' }),
  );
  const vars = Object.fromEntries(
    (dump[0].formatted.value['.bss'] as Array<Record<string, number>>).flatMap((v) => Object.entries(v)),
  );
  assert.equal(vars.packets_seen, sent.length);
  assert.deepEqual(promtoolProblems(renderProgramMetrics(metrics)), []);
});
