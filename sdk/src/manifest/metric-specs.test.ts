// Metric declarations: histograms over arrays or per-bucket entries, nested value paths, Prometheus name rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManifestError } from '../errors.js';
import { assertMetricConventions, histogramBounds, metricNameProblem } from './metric-specs.js';
import { parseManifest } from './parse-manifest.js';

function manifest(maps: Record<string, unknown>): Record<string, unknown> {
  return {
    name: 'a/b',
    version: '1.0.0',
    license: 'GPL',
    programs: [{ name: 'f' }],
    requires: { arches: ['x86'] },
    maps,
  };
}
const hist = { key: 'u32', value: { slots: { type: 'array', of: 'u32', length: 26 }, sum_ns: 'u64' } };

function refuse(maps: Record<string, unknown>, code: string, path: string): void {
  assert.throws(
    () => parseManifest(manifest(maps)),
    (err: unknown) => {
      assert.ok(err instanceof ManifestError, String(err));
      assert.deepEqual([err.code, err.path], [code, path], err.message);
      return true;
    },
  );
}

test('a bcc-style slots array and a per-bucket map both declare histograms', () => {
  const m = parseManifest(
    manifest({
      runq: {
        layout: hist,
        metrics: [
          {
            name: 'runq_latency_seconds',
            type: 'histogram',
            help: 'h',
            value: 'slots',
            sum: 'sum_ns',
            buckets: { kind: 'log2' },
            scale: 1e-9,
            labels: { cpu: 'key' },
          },
        ],
      },
      rtt: {
        layout: { key: { cgroup: 'u64', bucket: 'u32' }, value: { n: { samples: 'u64' } } },
        metrics: [
          {
            name: 'rtt_seconds',
            type: 'histogram',
            help: 'h',
            value: 'n.samples',
            bucket: 'bucket',
            buckets: { kind: 'linear', min: 0, width: 100 },
            labels: { cgroup_id: 'cgroup' },
          },
        ],
      },
    }),
  );
  assert.deepEqual(m.maps?.rtt?.metrics?.[0]?.buckets, { kind: 'linear', min: 0, width: 100 });
  assert.equal(m.maps?.runq?.metrics?.[0]?.scale, 1e-9);
});

test('histograms and labels that cannot be exported are refused at the field', () => {
  const h = { name: 'x_seconds', type: 'histogram', help: 'h', buckets: { kind: 'log2' } };
  refuse(
    { m: { layout: hist, metrics: [{ ...h, value: 'sum_ns' }] } },
    'FIELD_TYPE',
    'maps.m.metrics[0].value',
  );
  refuse(
    { m: { layout: hist, metrics: [{ ...h, value: 'slots', buckets: undefined }] } },
    'MISSING_FIELD',
    'maps.m.metrics[0].buckets',
  );
  refuse(
    { m: { layout: hist, metrics: [{ ...h, value: 'slots', labels: { le: 'key' } }] } },
    'RESERVED_LABEL',
    'maps.m.metrics[0].labels.le',
  );
  refuse(
    { m: { layout: hist, metrics: [{ ...h, value: 'slots', sum: 'nope' }] } },
    'UNKNOWN_REFERENCE',
    'maps.m.metrics[0].sum',
  );
  refuse(
    { m: { layout: hist, metrics: [{ name: 'x_total', type: 'counter', help: 'h', value: 'slots' }] } },
    'FIELD_TYPE',
    'maps.m.metrics[0].value',
  );
  refuse(
    {
      m: {
        layout: hist,
        metrics: [
          { name: 'x_total', type: 'counter', help: 'h', value: 'sum_ns', labels: { deployment: 'key' } },
        ],
      },
    },
    'RESERVED_LABEL',
    'maps.m.metrics[0].labels.deployment',
  );
});

test('names follow Prometheus conventions: _total on counters only, base units, no reserved suffixes', () => {
  assert.equal(metricNameProblem('bpfleet_xdp_firewall_packets_total', 'counter'), undefined);
  assert.equal(metricNameProblem('runq_latency_seconds', 'histogram'), undefined);
  assert.match(metricNameProblem('packets', 'counter') ?? '', /ends in _total/);
  assert.match(metricNameProblem('queue_total', 'gauge') ?? '', /only a counter/);
  assert.match(
    metricNameProblem('rtt_microseconds_total', 'counter') ?? '',
    /base unit seconds instead of microseconds/,
  );
  assert.match(metricNameProblem('rtt_us', 'gauge') ?? '', /base unit seconds/);
  assert.match(metricNameProblem('x_bucket', 'gauge') ?? '', /_bucket/);
  assert.match(metricNameProblem('drops_counter_total', 'counter') ?? '', /type/);
  const maps = parseManifest(
    manifest({
      m: { layout: hist, metrics: [{ name: 'sum_ns_total', type: 'counter', help: 'h', value: 'sum_ns' }] },
    }),
  ).maps;
  assert.throws(
    () => assertMetricConventions(maps),
    (err: unknown) =>
      err instanceof ManifestError && err.code === 'METRIC_NAME' && err.path === 'maps.m.metrics[0].name',
  );
});

test('log2 bounds are bcc slot maxima (slot n holds [2^(n-1), 2^n - 1]); the last slot is open', () => {
  assert.deepEqual(histogramBounds({ kind: 'log2' }, 5), [0, 1, 3, 7, Number.POSITIVE_INFINITY]);
  assert.deepEqual(histogramBounds({ kind: 'linear', min: 10, width: 5 }, 3), [
    14,
    19,
    Number.POSITIVE_INFINITY,
  ]);
});

test('globals: variables by name as metric sources; no labels (no key); names checked like maps', () => {
  const globals = {
    vars: { packets_seen: 'u64', hist: { type: 'array', of: 'u32', length: 8 } },
    metrics: [
      { name: 'seen_total', type: 'counter', help: 'h', value: 'packets_seen' },
      { name: 'size_bytes', type: 'histogram', help: 'h', value: 'hist', buckets: { kind: 'log2' } },
    ],
  };
  const m = parseManifest({ ...manifest({}), globals });
  assert.equal(m.globals?.metrics.length, 2);
  const bad = (metric: Record<string, unknown>, code: string, path: string) =>
    assert.throws(
      () => parseManifest({ ...manifest({}), globals: { ...globals, metrics: [metric] } }),
      (err: unknown) => err instanceof ManifestError && err.code === code && err.path === path,
    );
  bad(
    { name: 'x_total', type: 'counter', help: 'h', value: 'packets_seen', labels: { k: 'key' } },
    'NOT_SUPPORTED',
    'globals.metrics[0]',
  );
  bad(
    { name: 'x_total', type: 'counter', help: 'h', value: 'nope' },
    'UNKNOWN_REFERENCE',
    'globals.metrics[0].value',
  );
  assert.throws(
    () => assertMetricConventions(undefined, { metrics: [{ name: 'seen', type: 'counter', help: 'h' }] }),
    (err: unknown) => err instanceof ManifestError && err.path === 'globals.metrics[0].name',
  );
});
