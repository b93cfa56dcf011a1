// Map entries → samples: an entry per bucket (the last one open when the count is declared), equal labels summed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeLayoutValue, type MapDecl, parseManifest } from '@bpfleet/sdk/manifest';
import { mapSamples } from './map-samples.js';

const owner = { deployment: 'd', package: 'a/b', version: '1.0.0' };
const decl = (metric: Record<string, unknown>, key: unknown = { app: 'u64', bucket: 'u32' }): MapDecl => {
  const m = parseManifest({
    name: 'a/b',
    version: '1.0.0',
    license: 'GPL',
    programs: [{ name: 'f' }],
    requires: { arches: ['x86'] },
    maps: { m: { layout: { key, value: 'u64' }, metrics: [metric] } },
  });
  return m.maps?.m as MapDecl;
};
const entry = (app: number, bucket: number, count: number, cpus = 1) => ({
  key: encodeLayoutValue({ app: 'u64', bucket: 'u32' }, { app, bucket }, 'k'),
  values: Array.from({ length: cpus }, () => encodeLayoutValue('u64', count, 'v')),
});

test('an entry per bucket: bounds from the index, µs scaled to seconds, the declared last bucket open', () => {
  const d = decl({
    name: 'rtt_seconds',
    type: 'histogram',
    help: 'h',
    bucket: 'bucket',
    buckets: { kind: 'log2', count: 4 },
    scale: 1e-6,
    labels: { app: 'app' },
    perCpu: 'sum',
  });
  const [a, b] = mapSamples(owner, 'm', d, [
    entry(1, 0, 1, 2),
    entry(1, 2, 3, 2),
    entry(1, 3, 5, 2),
    entry(2, 1, 7),
  ]);
  assert.deepEqual(a?.labels, { app: '1' });
  assert.deepEqual(a?.buckets, [
    { le: 0, count: 2 },
    { le: 3e-6, count: 6 },
    { le: Number.POSITIVE_INFINITY, count: 10 },
  ]);
  assert.equal(a?.value, 18);
  assert.deepEqual(b?.buckets, [{ le: 1e-6, count: 7 }]);
});

test('a counter labelled by fewer fields than the key sums the entries that share its labels', () => {
  const d = decl({ name: 'samples_total', type: 'counter', help: 'h', labels: { app: 'app' } });
  const samples = mapSamples(owner, 'm', d, [entry(1, 0, 1), entry(1, 5, 2), entry(3, 1, 4)]);
  assert.deepEqual(
    samples.map((s) => [s.key, s.value]),
    [
      ['app=1', 3],
      ['app=3', 4],
    ],
  );
});
