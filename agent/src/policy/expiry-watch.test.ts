// The expiry timer on real timers: fires at the expiry, once per policy, re-arms, and never spins on far expiries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ExpirySource, ExpiryWatch } from './expiry-watch.js';
import type { ExpiredPolicy } from './policy-store.js';

/** Policies as topic → [serial, expiry ms]; expired against the real clock, like the store. */
function source(policies: Map<string, [number, number]>) {
  let looks = 0;
  const s: ExpirySource = {
    expired: () => {
      looks++;
      return [...policies]
        .filter(([, [, at]]) => at <= Date.now())
        .map(([topic, [serial]]) => ({
          topic,
          serial,
          reason: { code: 'POLICY_EXPIRED' as const, message: `${topic} ${serial}` },
        }));
    },
    nextExpiry: () => {
      const ahead = [...policies.values()].map(([, at]) => at).filter((at) => at > Date.now());
      return ahead.length ? new Date(Math.min(...ahead)) : undefined;
    },
  };
  return { s, looks: () => looks };
}

function watch(s: ExpirySource) {
  const expired: Array<[string, number, number]> = [];
  let changes = 0;
  const w = new ExpiryWatch({
    policies: s,
    now: () => new Date(),
    onExpired: (e: ExpiredPolicy) => expired.push([e.topic, e.serial, Date.now()]),
    onChange: () => changes++,
  });
  return { w, expired, changes: () => changes };
}

test('reports each policy once when its expiry passes, the earliest first, and not before', async () => {
  const start = Date.now();
  const policies = new Map<string, [number, number]>([
    ['dev', [1, start + 150]],
    ['grp', [1, start + 300]],
  ]);
  const { s } = source(policies);
  const { w, expired, changes } = watch(s);
  try {
    w.refresh();
    assert.equal(expired.length, 0);
    await sleep(220);
    assert.deepEqual(
      expired.map(([t]) => t),
      ['dev'],
    );
    assert.ok(expired[0]![2] >= start + 150, 'not before its expiry');
    await sleep(200);
    assert.deepEqual(
      expired.map(([t]) => t),
      ['dev', 'grp'],
    );
    assert.equal(changes(), 2);
    w.refresh();
    assert.equal(expired.length, 2, 'a refresh does not report the same policy again');
  } finally {
    w.stop();
  }
});

test('a policy already expired at start-up is reported by the first refresh; a renewal that expires again is reported again', async () => {
  const policies = new Map<string, [number, number]>([['dev', [3, Date.now() - 1000]]]);
  const { s } = source(policies);
  const { w, expired } = watch(s);
  try {
    w.refresh();
    assert.deepEqual(
      expired.map(([t, serial]) => [t, serial]),
      [['dev', 3]],
    );
    policies.set('dev', [4, Date.now() + 100]);
    w.refresh();
    assert.equal(expired.length, 1);
    await sleep(200);
    assert.deepEqual(
      expired.map(([t, serial]) => [t, serial]),
      [
        ['dev', 3],
        ['dev', 4],
      ],
    );
  } finally {
    w.stop();
  }
});

test('an expiry months ahead does not fire now (setTimeout would overflow to 1 ms and spin)', async () => {
  const policies = new Map<string, [number, number]>([['dev', [1, Date.now() + 90 * 24 * 3600 * 1000]]]);
  const { s, looks } = source(policies);
  const { w, expired } = watch(s);
  try {
    w.refresh();
    await sleep(100);
    assert.equal(looks(), 1, 'looked once, at the refresh');
    assert.equal(expired.length, 0);
  } finally {
    w.stop();
  }
});

test('stop cancels the timer', async () => {
  const policies = new Map<string, [number, number]>([['dev', [1, Date.now() + 50]]]);
  const { s } = source(policies);
  const { w, expired } = watch(s);
  w.refresh();
  w.stop();
  await sleep(120);
  assert.equal(expired.length, 0);
});
