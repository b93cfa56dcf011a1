// The program event store: bounded per device by count and by age, filtered by program, totals by stream.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProgramEventBatch } from '@bpfleet/sdk/protocol';
import Database from 'better-sqlite3';
import { createSqliteProgramEventStore } from './sqlite-program-event-store.js';

function batch(first: number, n: number, over: Partial<ProgramEventBatch> = {}): ProgramEventBatch {
  return {
    kind: 'program-events',
    time: '2026-01-01T00:00:00Z',
    deployment: 'exec',
    package: 'evs/exec',
    version: '1.0.0',
    stream: 'events',
    first,
    records: Array.from({ length: n }, (_, i) => ({ pid: first + i })),
    lost: { ringFull: 2, budget: 3, malformed: 0 },
    ...over,
  };
}

test('keeps the newest records per device within the count bound, numbered as the device numbered them', () => {
  const store = createSqliteProgramEventStore(new Database(':memory:'), { perDevice: 5, maxAgeMs: 60_000 });
  const now = new Date('2026-01-01T00:00:00Z');
  store.record('d1', batch(0, 4), now);
  store.record('d1', batch(4, 4), now);
  store.record('d2', batch(0, 1), now);
  const d1 = store.list('d1', { limit: 100 });
  assert.deepEqual(
    d1.map((e) => e.number),
    [7, 6, 5, 4, 3],
  );
  assert.deepEqual(d1[0]?.record, { pid: 7 });
  assert.equal(store.list('d2').length, 1, 'another device keeps its own');
  assert.deepEqual(store.totals('d1')[0]?.lost, { ringFull: 4, budget: 6, malformed: 0 });
  assert.equal(store.totals('d1')[0]?.received, 8);
  store.record('d1', batch(8, 12), now);
  assert.deepEqual(
    store.list('d1').map((e) => e.number),
    [19, 18, 17, 16, 15],
    'a batch larger than the bound keeps its newest',
  );
});

test('records older than the age bound go; a program filter matches deployment or package', () => {
  const store = createSqliteProgramEventStore(new Database(':memory:'), { perDevice: 100, maxAgeMs: 60_000 });
  store.record('d1', batch(0, 3), new Date('2026-01-01T00:00:00Z'));
  store.record(
    'd1',
    batch(0, 2, { deployment: 'dns', package: 'evs/dns' }),
    new Date('2026-01-01T00:02:00Z'),
  );
  assert.deepEqual(
    store.list('d1').map((e) => e.deployment),
    ['dns', 'dns'],
  );
  assert.equal(store.list('d1', { program: 'evs/dns' }).length, 2);
  assert.equal(store.list('d1', { program: 'exec' }).length, 0);
  store.removeDevice('d1');
  assert.equal(store.list('d1').length, 0);
  assert.deepEqual(store.totals('d1'), []);
});
