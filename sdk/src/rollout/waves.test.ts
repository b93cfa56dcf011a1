import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkWaves, parseWaves, planWaves } from './waves.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `d${String(i).padStart(2, '0')}`);
const sizes = (plan: { waves: string[][] }) => plan.waves.map((w) => w.length);

test('waves are cumulative: 10%,50%,100% of 60 moves 6, then 24, then 30', () => {
  const plan = planWaves(ids(60), ['10%', '50%', '100%']);
  assert.deepEqual(sizes(plan), [6, 24, 30]);
  assert.deepEqual(plan.warnings, []);
  assert.deepEqual(plan.waves.flat(), ids(60), 'every device exactly once, in order');
});

test('counts and percentages mix, each cumulative', () => {
  assert.deepEqual(sizes(planWaves(ids(20), [1, '50%', '100%'])), [1, 9, 10]);
  assert.deepEqual(sizes(planWaves(ids(20), [1, 5, 20])), [1, 4, 15]);
});

test('a wave that adds nobody on a small group is left out, and the plan says so', () => {
  const plan = planWaves(ids(2), ['10%', '20%', '100%']);
  assert.deepEqual(sizes(plan), [1, 1]);
  assert.match(
    plan.warnings[0]!,
    /wave 2 \(20%\) adds no device on a group of 2 \(1 already reached\): left out/,
  );
});

test('steps that stop short of the group get a final wave, and the plan says so', () => {
  const plan = planWaves(ids(10), ['10%', '50%']);
  assert.deepEqual(sizes(plan), [1, 4, 5]);
  assert.match(
    plan.warnings[0]!,
    /the last wave \(50%\) reaches 5 of 10 devices: a final wave moves the remaining 5/,
  );
  assert.deepEqual(sizes(planWaves(ids(3), [1])), [1, 2]);
});

test('decreasing, repeated, malformed or out-of-range steps are refused with the wave named', () => {
  const bad: Array<[unknown[], RegExp]> = [
    [['10%', '5%'], /w: wave 2 \("5%"\) must be above 10%: waves are cumulative/],
    [[1, 1], /wave 2 \(1\) must reach more devices than 1/],
    [['abc'], /wave 1 \("abc"\) is not a count or a percentage/],
    [['0%'], /not a count or a percentage/],
    [['101%'], /not a count or a percentage/],
    [[0], /not a device count/],
    [[1.5], /not a device count/],
    [['100%', 5], /wave 1 \("100%"\): nothing can follow 100%/],
    [[], /give at least one wave/],
  ];
  for (const [steps, message] of bad) {
    assert.throws(
      () => checkWaves(steps, 'w'),
      (e: Error & { code?: string }) => e.code === 'WAVES_INVALID' && message.test(e.message),
      JSON.stringify(steps),
    );
  }
});

test('--waves text splits into counts and percentages', () => {
  assert.deepEqual(parseWaves('1, 50%,100%', '--waves'), [1, '50%', '100%']);
  assert.throws(
    () => parseWaves('abc', '--waves'),
    /--waves: wave 1 \("abc"\) is not a count or a percentage/,
  );
});
