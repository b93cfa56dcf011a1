// The contract every TelemetryHistoryStore passes: tiers chosen by age, downsampling, counter rates, bounds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Telemetry } from '@bpfleet/sdk/protocol';
import {
  DEFAULT_TELEMETRY_RETENTION,
  type TelemetryHistoryStore,
  type TelemetryRetention,
} from './telemetry-history-store.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;

function report(metrics: Array<[name: string, key: string, value: number]>): Telemetry {
  return {
    time: 'device clock, ignored',
    metrics: metrics.map(([name, key, value]) => ({ deployment: 'fw', map: 'm', name, key, value })),
  };
}

export function telemetryHistoryContract(
  kind: string,
  make: (retention?: TelemetryRetention) => TelemetryHistoryStore,
): void {
  test(`${kind}: raw samples for the last hour, counters with rates across a reset`, () => {
    const store = make();
    const at = (s: number) => new Date(T0 + s * S);
    store.record(
      'd1',
      report([
        ['pkts_total', 'verdict=pass', 100],
        ['queue_depth', '', 7],
      ]),
      at(0),
    );
    store.record(
      'd1',
      report([
        ['pkts_total', 'verdict=pass', 160],
        ['queue_depth', '', 3],
      ]),
      at(30),
    );
    store.record(
      'd1',
      report([
        ['pkts_total', 'verdict=pass', 40],
        ['queue_depth', '', 5],
      ]),
      at(60),
    );
    const r = store.query('d1', { name: 'pkts_total', since: at(-60) }, at(61));
    assert.equal(r.stepMs, 0);
    assert.equal(r.series.length, 1, 'the name filter leaves the gauge out');
    const [s] = r.series;
    assert.equal(s?.counter, true);
    assert.deepEqual(
      s?.points.map((p) => p.last),
      [100, 160, 40],
    );
    // 60 more in 30 s, then a reset to 0 and 40 more in 30 s.
    assert.deepEqual(
      s?.points.map((p) => p.rate),
      [undefined, 2, 40 / 30],
    );
    const gauge = store.query('d1', { name: 'queue_depth', since: at(-60) }, at(61)).series[0];
    assert.equal(gauge?.counter, false);
    assert.equal(gauge?.points[1]?.rate, undefined, 'a gauge has no rate');
    const minute = store.query('d1', { name: 'queue_depth', since: at(-60), stepMs: MIN }, at(61)).series[0];
    // The device's read times, when it gives them, are what the rate is over (delivery can bunch reports up).
    const timed = (value: number, s: number) => ({
      ...report([['b_total', '', value]]),
      time: at(s).toISOString(),
    });
    store.record('d2', timed(0, 0), at(100));
    store.record('d2', timed(50, 10), at(101));
    assert.equal(store.query('d2', { since: at(0) }, at(102)).series[0]?.points[1]?.rate, 5);
    store.record('d2', timed(60, 20), at(101));
    assert.deepEqual(
      store.query('d2', { since: at(0) }, at(102)).series[0]?.points.map((p) => p.last),
      [0, 50, 60],
      'two reports arriving in one millisecond stay two samples',
    );
    assert.deepEqual(
      minute?.points.map((p) => [p.at, p.samples, p.avg, p.min, p.max, p.last]),
      [
        [at(0).toISOString(), 2, 5, 3, 7, 3],
        [at(60).toISOString(), 1, 5, 5, 5, 5],
      ],
    );
  });

  test(`${kind}: older than an hour comes from 1-minute points, older than a day from 10-minute points`, () => {
    const store = make();
    // A gauge every 10 s for 3 hours whose value is the minute it was sampled in.
    for (let s = 0; s < 3 * 3600; s += 10)
      store.record('d1', report([['temp_celsius', '', Math.floor(s / 60)]]), new Date(T0 + s * S));
    const now = new Date(T0 + 3 * HOUR);
    const twoHours = store.query('d1', { since: new Date(now.getTime() - 2 * HOUR) }, now);
    assert.equal(twoHours.stepMs, MIN);
    const points = twoHours.series[0]?.points ?? [];
    assert.equal(points.length, 120);
    assert.ok(points.every((p) => p.samples === 6 && p.avg === (Date.parse(p.at) - T0) / MIN));
    const fiveMin = store.query('d1', { since: new Date(now.getTime() - 30 * MIN), stepMs: 5 * MIN }, now);
    assert.equal(fiveMin.stepMs, 5 * MIN);
    assert.deepEqual(
      fiveMin.series[0]?.points.map((p) => [p.samples, p.min, p.max, p.avg]),
      Array.from({ length: 6 }, (_, i) => [30, 150 + i * 5, 154 + i * 5, 152 + i * 5]),
    );
    const later = new Date(T0 + 26 * HOUR);
    store.record('d1', report([['temp_celsius', '', 0]]), later);
    const old = store.query('d1', { since: new Date(T0) }, later);
    assert.equal(old.stepMs, 10 * MIN, 'a day ago is only in the 10-minute tier');
    assert.deepEqual(old.series[0]?.points[0], {
      at: new Date(T0).toISOString(),
      samples: 60,
      avg: 4.5,
      min: 0,
      max: 9,
      last: 9,
    });
  });

  test(`${kind}: a week bounds everything; raw samples and series per device are bounded by count`, () => {
    const store = make({ ...DEFAULT_TELEMETRY_RETENTION, rawPerSeries: 5, seriesPerDevice: 2 });
    for (let i = 0; i < 10; i++) store.record('d1', report([['a_total', '', i]]), new Date(T0 + i * S));
    const now = new Date(T0 + 10 * S);
    assert.equal(store.query('d1', { since: new Date(T0) }, now).series[0]?.points.length, 5);
    store.record(
      'd1',
      report([
        ['b', '', 1],
        ['c', '', 1],
      ]),
      now,
    );
    const all = store.query('d1', { since: new Date(T0) }, now);
    assert.deepEqual(
      all.series.map((s) => s.name),
      ['a_total', 'b'],
    );
    assert.equal(all.droppedSeries, 1);
    store.record('d2', report([['c', '', 1]]), now);
    assert.equal(
      store.query('d2', { since: new Date(T0) }, now).series.length,
      1,
      'another device has its own bound',
    );
    const weekLater = new Date(T0 + 8 * 24 * HOUR);
    store.record('d1', report([['b', '', 2]]), weekLater);
    const after = store.query('d1', { since: new Date(T0) }, weekLater);
    assert.deepEqual(
      after.series.map((s) => [s.name, s.points.length]),
      [['b', 1]],
      'older than a week is gone',
    );
    store.removeDevice('d1');
    assert.deepEqual(store.query('d1', { since: new Date(T0) }, weekLater).series, []);
  });
}
