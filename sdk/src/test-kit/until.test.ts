// The kit's until: sync and async checks, a thrown check retried, and a timeout that names what and what it saw.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBpfleetError } from '../errors.js';
import { UntilTimeoutError, until } from './until.js';

test('returns once a sync check holds, polling meanwhile', async () => {
  let calls = 0;
  await until(() => ++calls === 5, 'the fifth call', 2000);
  assert.equal(calls, 5);
});

test('returns once an async check holds; a check that throws is "not yet"', async () => {
  let calls = 0;
  await until(
    async () => {
      calls++;
      if (calls < 3) throw new Error('not started');
      return true;
    },
    'the process to start',
    2000,
  );
  assert.equal(calls, 3);
});

test('times out near its deadline with a message naming what it waited for, the last state and error', async () => {
  let n = 0;
  const started = Date.now();
  const err = await until(
    () => {
      n++;
      throw new Error(`busy ${n}`);
    },
    'the counter to reach 10',
    300,
    () => ({ counter: 7, big: 1n }),
  ).then(
    () => assert.fail('until returned for a check that never held'),
    (e: unknown) => e,
  );
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 300 && elapsed < 1500, `timed out after ${elapsed} ms`);
  assert.ok(err instanceof UntilTimeoutError && isBpfleetError(err));
  assert.equal(err.code, 'UNTIL_TIMED_OUT');
  assert.match(err.message, /^waiting for the counter to reach 10: timed out after 300 ms/);
  assert.match(err.message, /last seen \{"counter":7,"big":"1"\}/);
  assert.match(err.message, new RegExp(`the check last threw: busy ${n}$`));
  assert.ok(n > 3, `polled ${n} times`);
});

test('a check that returns false last is reported without a stale error', async () => {
  let n = 0;
  const err = await until(
    () => {
      if (++n === 1) throw new Error('first call fails');
      return false;
    },
    'nothing',
    100,
  ).catch((e: Error) => e);
  assert.ok(err instanceof UntilTimeoutError);
  assert.doesNotMatch(err.message, /threw/);
});

test('polls no more often than everyMs once past the first quick polls', async () => {
  let calls = 0;
  await until(() => ++calls > 100, 'never in time', 600, undefined, 200).catch(() => undefined);
  // 10, 20, 40, 80, 160, then 200 ms steps: about 7 checks in 600 ms (a 10 ms poll would make 60).
  assert.ok(calls >= 4 && calls <= 9, `${calls} checks`);
});
