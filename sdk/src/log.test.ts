import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createJsonLogger, createStderrLogger, createTextLogger } from './log.js';

const at = () => new Date('2026-12-03T12:04:05.123Z');

test('JSON lines carry time, level, message and the fields', () => {
  const lines: string[] = [];
  const log = createJsonLogger((l) => lines.push(l), { clock: at });
  log.warn('program failed', { deployment: 'fw', reason: 'VERIFIER_REJECTED' });
  log.debug('not shown without debug');
  assert.deepEqual(
    lines.map((l) => JSON.parse(l)),
    [
      {
        time: '2026-12-03T12:04:05.123Z',
        level: 'warn',
        message: 'program failed',
        deployment: 'fw',
        reason: 'VERIFIER_REJECTED',
      },
    ],
  );
});

test('text lines read as key=value, quoting what needs it', () => {
  const lines: string[] = [];
  const log = createTextLogger((l) => lines.push(l), { clock: at, debug: true });
  log.info('rollout started', { rollout: 'r1', waves: [1, 9], detail: 'a b', none: undefined });
  log.debug('tick');
  assert.deepEqual(lines, [
    '12:04:05.123 INFO  rollout started  rollout=r1 waves=[1,9] detail="a b"\n',
    '12:04:05.123 DEBUG tick\n',
  ]);
});

test('BPFLEET_LOG_FORMAT overrides the terminal guess', () => {
  const written: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stderr.write;
  try {
    createStderrLogger({ clock: at }, { BPFLEET_LOG_FORMAT: 'text' }).info('hello', { a: 1 });
    createStderrLogger({ clock: at }, { BPFLEET_LOG_FORMAT: 'json' }).info('hello', { a: 1 });
  } finally {
    process.stderr.write = original;
  }
  assert.deepEqual(written, [
    '12:04:05.123 INFO  hello  a=1\n',
    '{"time":"2026-12-03T12:04:05.123Z","level":"info","message":"hello","a":1}\n',
  ]);
});
