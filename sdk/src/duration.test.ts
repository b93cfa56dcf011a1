import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, parseDuration } from './duration.js';

test('durations carry their unit; every unit parses to milliseconds', () => {
  assert.equal(parseDuration('250ms', 't'), 250);
  assert.equal(parseDuration('5s', 't'), 5000);
  assert.equal(parseDuration(' 5m ', 't'), 300_000);
  assert.equal(parseDuration('24h', 't'), 86_400_000);
  assert.equal(parseDuration('1d', 't'), 86_400_000);
});

test('a bare number is refused with the spellings it could have meant', () => {
  assert.throws(
    () => parseDuration('5', '--wave-timeout'),
    (e: Error & { code?: string }) =>
      e.code === 'DURATION_INVALID' && /^--wave-timeout: "5" has no unit; write 5s, 5m or 5h/.test(e.message),
  );
});

test('garbage and out-of-range values name the option and the bound', () => {
  assert.throws(
    () => parseDuration('soon', 'x'),
    /x: "soon" is not a duration; write a whole number and a unit/,
  );
  assert.throws(() => parseDuration('1.5h', 'x'), /not a duration/);
  assert.throws(() => parseDuration('-5s', 'x'), /not a duration/);
  assert.throws(() => parseDuration('500ms', 'x', { min: 1000 }), /x: 500ms is shorter than 1s/);
  assert.throws(() => parseDuration('8d', 'x', { max: 7 * 86_400_000 }), /x: 8d is longer than 7d/);
});

test('formatDuration gives the shortest exact spelling', () => {
  assert.equal(formatDuration(300_000), '5m');
  assert.equal(formatDuration(90_000), '90s');
  assert.equal(formatDuration(1500), '1500ms');
});
