// ProgramEventStore on SQLite, in the edge's database file: records pruned by count and age on every insert.
import type { EventRecord, ProgramEventBatch } from '@bpfleet/sdk/protocol';
import type { Database } from 'better-sqlite3';
import {
  DEFAULT_RETENTION,
  type ProgramEventQuery,
  type ProgramEventRetention,
  type ProgramEventStore,
  type StoredProgramEvent,
  type StreamTotals,
} from './program-event-store.js';

const MIGRATIONS = [
  `CREATE TABLE program_events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     device TEXT NOT NULL,
     received_at TEXT NOT NULL,
     deployment TEXT NOT NULL,
     package TEXT NOT NULL,
     version TEXT NOT NULL,
     stream TEXT NOT NULL,
     number INTEGER NOT NULL,
     record TEXT NOT NULL
   );
   CREATE INDEX program_events_device ON program_events (device, seq);
   CREATE INDEX program_events_age ON program_events (received_at);
   CREATE TABLE program_event_streams (
     device TEXT NOT NULL,
     deployment TEXT NOT NULL,
     stream TEXT NOT NULL,
     package TEXT NOT NULL,
     version TEXT NOT NULL,
     received INTEGER NOT NULL,
     lost_ring_full INTEGER NOT NULL,
     lost_budget INTEGER NOT NULL,
     lost_malformed INTEGER NOT NULL,
     last_at TEXT NOT NULL,
     PRIMARY KEY (device, deployment, stream)
   )`,
];

function migrate(db: Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS program_event_schema (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM program_event_schema').get() as { version: number } | undefined;
  db.transaction(() => {
    for (const sql of MIGRATIONS.slice(row?.version ?? 0)) db.exec(sql);
    if (!row) db.prepare('INSERT INTO program_event_schema (version) VALUES (?)').run(MIGRATIONS.length);
    else db.prepare('UPDATE program_event_schema SET version = ?').run(MIGRATIONS.length);
  })();
}

interface TotalsRow {
  deployment: string;
  package: string;
  version: string;
  stream: string;
  received: number;
  lost_ring_full: number;
  lost_budget: number;
  lost_malformed: number;
  last_at: string;
}

interface EventRow {
  device: string;
  received_at: string;
  deployment: string;
  package: string;
  version: string;
  stream: string;
  number: number;
  record: string;
}

export function createSqliteProgramEventStore(
  db: Database,
  retention: ProgramEventRetention = DEFAULT_RETENTION,
): ProgramEventStore {
  migrate(db);
  const insert = db.prepare(
    'INSERT INTO program_events (device, received_at, deployment, package, version, stream, number, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const pruneCount = db.prepare(
    'DELETE FROM program_events WHERE device = ? AND seq <= (SELECT seq FROM program_events WHERE device = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)',
  );
  const pruneAge = db.prepare('DELETE FROM program_events WHERE received_at < ?');
  const total = db.prepare(
    `INSERT INTO program_event_streams VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (device, deployment, stream) DO UPDATE SET package = excluded.package, version = excluded.version,
       received = received + excluded.received, lost_ring_full = lost_ring_full + excluded.lost_ring_full,
       lost_budget = lost_budget + excluded.lost_budget, lost_malformed = lost_malformed + excluded.lost_malformed,
       last_at = excluded.last_at`,
  );
  const record = db.transaction((device: string, b: ProgramEventBatch, at: string, oldest: string) => {
    // Past the per-device bound only the newest fit: inserting the rest would be pruned at once.
    const keep = b.records.slice(-retention.perDevice);
    const skipped = b.records.length - keep.length;
    keep.forEach((r, i) => {
      insert.run(
        device,
        at,
        b.deployment,
        b.package,
        b.version,
        b.stream,
        b.first + skipped + i,
        JSON.stringify(r),
      );
    });
    const { ringFull, budget, malformed } = b.lost;
    total.run(
      device,
      b.deployment,
      b.stream,
      b.package,
      b.version,
      b.records.length,
      ringFull,
      budget,
      malformed,
      at,
    );
    pruneCount.run(device, device, retention.perDevice);
    pruneAge.run(oldest);
  });
  return {
    record(device, batch, now) {
      record(device, batch, now.toISOString(), new Date(now.getTime() - retention.maxAgeMs).toISOString());
    },
    list(device: string, query: ProgramEventQuery = {}): StoredProgramEvent[] {
      const where = ['device = ?'];
      const args: unknown[] = [device];
      if (query.program) {
        where.push('(deployment = ? OR package = ?)');
        args.push(query.program, query.program);
      }
      if (query.stream) {
        where.push('stream = ?');
        args.push(query.stream);
      }
      const rows = db
        .prepare(`SELECT * FROM program_events WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`)
        .all(...args, query.limit ?? 100) as EventRow[];
      return rows.map((r) => ({
        device: r.device,
        receivedAt: r.received_at,
        deployment: r.deployment,
        package: r.package,
        version: r.version,
        stream: r.stream,
        number: r.number,
        record: JSON.parse(r.record) as EventRecord,
      }));
    },
    totals(device: string): StreamTotals[] {
      const rows = db
        .prepare('SELECT * FROM program_event_streams WHERE device = ? ORDER BY deployment, stream')
        .all(device) as TotalsRow[];
      return rows.map((r) => ({
        deployment: r.deployment,
        package: r.package,
        version: r.version,
        stream: r.stream,
        received: r.received,
        lost: { ringFull: r.lost_ring_full, budget: r.lost_budget, malformed: r.lost_malformed },
        lastAt: r.last_at,
      }));
    },
    removeDevice(device: string) {
      db.prepare('DELETE FROM program_events WHERE device = ?').run(device);
      db.prepare('DELETE FROM program_event_streams WHERE device = ?').run(device);
    },
  };
}
