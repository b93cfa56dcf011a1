import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { backoffDelay } from './backoff.js';

test('backoff stays within its bounds and its ceiling grows to the maximum', () => {
  fc.assert(
    fc.property(fc.nat(100), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, r) => {
      const d = backoffDelay(attempt, { initialMs: 100, maxMs: 5000 }, () => r);
      assert.ok(d >= 50 && d <= 5000, `${d}`);
    }),
  );
  assert.equal(
    backoffDelay(0, { initialMs: 100, maxMs: 5000 }, () => 0.999999),
    100,
  );
  assert.equal(
    backoffDelay(3, { initialMs: 100, maxMs: 5000 }, () => 0.999999),
    800,
  );
  assert.equal(
    backoffDelay(20, { initialMs: 100, maxMs: 5000 }, () => 0.999999),
    5000,
  );
});
