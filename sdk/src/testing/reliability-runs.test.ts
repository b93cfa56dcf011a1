import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzzRuns, isLongRun, reliabilityRuns } from './reliability-runs.js';

test('BPFLEET_LONG selects the long versions, anything else the short ones', () => {
  assert.equal(isLongRun({}), false);
  assert.equal(isLongRun({ BPFLEET_LONG: '0' }), false);
  assert.equal(isLongRun({ BPFLEET_LONG: '1' }), true);
  assert.equal(reliabilityRuns(15, 200, {}), 15);
  assert.equal(reliabilityRuns(15, 200, { BPFLEET_LONG: '1' }), 200);
  assert.equal(fuzzRuns({}), 1_000);
  assert.equal(fuzzRuns({ BPFLEET_LONG: 'true' }), 100_000);
});
