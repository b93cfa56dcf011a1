// The SQLite history store: the contract, and the rows on disk after eight days of samples stay within the bounds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { createSqliteTelemetryHistoryStore, historyQuerySql } from './sqlite-telemetry-history-store.js';
import { telemetryHistoryContract } from './telemetry-history-contract.js';

telemetryHistoryContract('sqlite', (retention) =>
  createSqliteTelemetryHistoryStore(new Database(':memory:'), retention),
);

test('sqlite: eight days of two series every 30 s leave at most the bound per tier on disk', () => {
  const db = new Database(':memory:');
  const store = createSqliteTelemetryHistoryStore(db);
  const t0 = Date.parse('2026-03-01T00:00:00Z');
  const end = t0 + 8 * 24 * 3600_000;
  for (let t = t0; t <= end; t += 30_000) {
    store.record(
      'd1',
      {
        time: '',
        metrics: [
          { deployment: 'fw', map: 'm', name: 'pkts_total', key: 'verdict=pass', value: (t - t0) / 1000 },
          { deployment: 'fw', map: 'm', name: 'depth', key: '', value: 1 },
        ],
      },
      new Date(t),
    );
  }
  const rows = db
    .prepare('SELECT tier, count(*) AS n FROM telemetry_points GROUP BY tier ORDER BY tier')
    .all();
  // Raw: one hour at 30 s (+1 for the sample on the boundary); 1-minute: a day; 10-minute: a week.
  assert.deepEqual(rows, [
    { tier: 0, n: 2 * 121 },
    { tier: 1, n: 2 * 1441 },
    { tier: 2, n: 2 * 1009 },
  ]);
  const rate = store.query(
    'd1',
    { name: 'pkts_total', since: new Date(end - 3600_000), stepMs: 600_000 },
    new Date(end),
  );
  assert.ok(
    rate.series[0]?.points.every((p) => p.rate === 1),
    'a counter rising 1/s reads as rate 1',
  );
});

test("sqlite: a device's query starts from its own series, never from every device's points by age", () => {
  const db = new Database(':memory:');
  createSqliteTelemetryHistoryStore(db);
  for (const byName of [false, true]) {
    const args = byName ? ['d1', 'x', 0, 0] : ['d1', 0, 0];
    const plan = (
      db.prepare(`EXPLAIN QUERY PLAN ${historyQuerySql(byName)}`).all(...args) as Array<{ detail: string }>
    ).map((r) => r.detail);
    assert.match(
      plan[0] ?? '',
      /^SEARCH s USING .*INDEX sqlite_autoindex_telemetry_series_1 \(device=\?/,
      plan.join(' | '),
    );
    assert.match(
      plan[1] ?? '',
      /^SEARCH p USING PRIMARY KEY \(series=\? AND tier=\? AND at>\?\)/,
      plan.join(' | '),
    );
  }
});
