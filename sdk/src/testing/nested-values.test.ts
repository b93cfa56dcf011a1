// bpfleet test on nested layouts: histogram slots and nested fields compared by path, per-CPU copies summed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFieldLayout } from '../manifest/map-layout.js';
import { compareValue, decodeLayout, encodeLayout } from './map-values.js';

const hist = parseFieldLayout(
  {
    slots: { type: 'array', of: 'u32', length: 4 },
    sum: 'u64',
    last: { kind: { type: 'enum', of: 'u8', names: { '1': 'exec' } }, comm: { type: 'string', size: 8 } },
  },
  'v',
);

test('histogram slots and nested fields: decoded by path, summed over CPUs, compared where the test names them', () => {
  const cpu = (slots: number[], sum: number) =>
    encodeLayout(hist, { slots, sum, last: { kind: 'exec', comm: 'sh' } }, 'v');
  const decoded = decodeLayout(hist, [cpu([1, 0, 2, 0], 10), cpu([0, 3, 0, 1], 5)]);
  assert.deepEqual(decoded, {
    'slots[0]': '1',
    'slots[1]': '3',
    'slots[2]': '2',
    'slots[3]': '1',
    sum: '15',
    'last.kind': 'exec',
    'last.comm': 'sh',
  });
  assert.deepEqual(
    compareValue(hist, decoded, { slots: [1, 3, { min: 1 }, 1], last: { kind: 'exec' } }, 'm[0]'),
    [],
  );
  assert.deepEqual(compareValue(hist, decoded, { slots: [1, 4], sum: { max: 9 } }, 'm[0]'), [
    'm[0].slots[1]: expected 4, got 3',
    'm[0].sum: expected at most 9, got 15',
  ]);
  const scalar = decodeLayout('u64', [encodeLayout('u64', 5, 'k'), encodeLayout('u64', 6, 'k')]);
  assert.deepEqual(compareValue('u64', scalar, { min: 12 }, 'c'), ['c: expected at least 12, got 11']);
});
