// FleetStore on SQLite (better-sqlite3): the embedded default, sharing the edge's database file.

import { RegistryError } from '@bpfleet/sdk/errors';
import type { AgentEvent, Presence, ReportedState, Telemetry } from '@bpfleet/sdk/protocol';
import type { Database } from 'better-sqlite3';
import {
  type DeviceEventRecord,
  type DeviceFilter,
  type DeviceRecord,
  type FleetStore,
  matchesFilter,
} from './fleet-store.js';

const MIGRATIONS = [
  `CREATE TABLE fleet_devices (
     id TEXT PRIMARY KEY,
     groups TEXT NOT NULL,
     secret_hash TEXT NOT NULL,
     registered_at TEXT NOT NULL,
     presence TEXT NOT NULL DEFAULT 'unknown',
     last_seen TEXT,
     reported TEXT
   )`,
  `CREATE TABLE fleet_events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     device TEXT NOT NULL,
     received_at TEXT NOT NULL,
     event TEXT NOT NULL
   );
   CREATE INDEX fleet_events_device ON fleet_events (device, seq)`,
  'ALTER TABLE fleet_devices ADD COLUMN telemetry TEXT',
  'ALTER TABLE fleet_devices ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0',
];

/** Events kept per device; older ones are pruned as new ones arrive. */
const EVENTS_PER_DEVICE = 500;

interface DeviceRow {
  id: string;
  groups: string;
  secret_hash: string;
  registered_at: string;
  presence: string;
  last_seen: string | null;
  reported: string | null;
  telemetry: string | null;
  disabled: number;
}

function toRecord(row: DeviceRow): DeviceRecord {
  return {
    id: row.id,
    groups: JSON.parse(row.groups) as string[],
    secretHash: row.secret_hash,
    registeredAt: row.registered_at,
    presence: row.presence as DeviceRecord['presence'],
    lastSeen: row.last_seen,
    reported: row.reported ? (JSON.parse(row.reported) as ReportedState) : null,
    telemetry: row.telemetry ? (JSON.parse(row.telemetry) as Telemetry) : null,
    disabled: row.disabled === 1,
  };
}

/** Applies this component's migrations, tracked in its own table so other components can share the file. */
export function migrateFleetSchema(db: Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS fleet_schema (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM fleet_schema').get() as { version: number } | undefined;
  const current = row?.version ?? 0;
  db.transaction(() => {
    for (const sql of MIGRATIONS.slice(current)) db.exec(sql);
    if (!row) db.prepare('INSERT INTO fleet_schema (version) VALUES (?)').run(MIGRATIONS.length);
    else db.prepare('UPDATE fleet_schema SET version = ?').run(MIGRATIONS.length);
  })();
}

export function createSqliteFleetStore(db: Database): FleetStore {
  migrateFleetSchema(db);
  const get = db.prepare('SELECT * FROM fleet_devices WHERE id = ?');
  const exists = db.prepare('SELECT 1 FROM fleet_devices WHERE id = ?').pluck();
  const all = db.prepare('SELECT * FROM fleet_devices ORDER BY id');
  const insertEvent = db.prepare('INSERT INTO fleet_events (device, received_at, event) VALUES (?, ?, ?)');
  const prune = db.prepare(
    'DELETE FROM fleet_events WHERE device = ? AND seq <= (SELECT seq FROM fleet_events WHERE device = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)',
  );
  // Prepared once: reports arrive for every device, and preparing costs more than the update.
  const setPresence = db.prepare('UPDATE fleet_devices SET presence = ?, last_seen = ? WHERE id = ?');
  const setReported = db.prepare('UPDATE fleet_devices SET reported = ?, last_seen = ? WHERE id = ?');
  const setTelemetry = db.prepare('UPDATE fleet_devices SET telemetry = ?, last_seen = ? WHERE id = ?');
  const addEvent = db.transaction((id: string, at: string, event: string) => {
    insertEvent.run(id, at, event);
    prune.run(id, id, EVENTS_PER_DEVICE);
  });
  const find = (id: string) => {
    const row = get.get(id) as DeviceRow | undefined;
    return row ? toRecord(row) : undefined;
  };
  const mustFind = (id: string) => {
    const device = find(id);
    if (!device) throw new RegistryError('DEVICE_NOT_FOUND', `device ${id}: not registered`);
    return device;
  };

  return {
    registerDevice(id, groups, secretHash, now) {
      try {
        db.prepare(
          'INSERT INTO fleet_devices (id, groups, secret_hash, registered_at) VALUES (?, ?, ?, ?)',
        ).run(id, JSON.stringify(groups), secretHash, now.toISOString());
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new RegistryError('DEVICE_EXISTS', `device ${id}: already registered`, { cause: err });
        }
        throw err;
      }
      return mustFind(id);
    },
    updateDevice(id, changes) {
      const device = mustFind(id);
      db.prepare('UPDATE fleet_devices SET groups = ?, secret_hash = ? WHERE id = ?').run(
        JSON.stringify(changes.groups ?? device.groups),
        changes.secretHash ?? device.secretHash,
        id,
      );
      return mustFind(id);
    },
    removeDevice(id) {
      return db.transaction(() => {
        db.prepare('DELETE FROM fleet_events WHERE device = ?').run(id);
        return db.prepare('DELETE FROM fleet_devices WHERE id = ?').run(id).changes > 0;
      })();
    },
    setDisabled(id, disabled) {
      db.prepare('UPDATE fleet_devices SET disabled = ? WHERE id = ?').run(disabled ? 1 : 0, id);
      return find(id);
    },
    getDevice: find,
    hasDevice(id) {
      return exists.get(id) !== undefined;
    },
    batch(work) {
      return db.transaction(work)();
    },
    listDevices(filter: DeviceFilter = {}) {
      return (all.all() as DeviceRow[]).map(toRecord).filter((d) => matchesFilter(d, filter));
    },
    recordPresence(id: string, presence: Presence, now: Date) {
      setPresence.run(presence, now.toISOString(), id);
    },
    recordReported(id: string, reported: ReportedState, now: Date) {
      setReported.run(JSON.stringify(reported), now.toISOString(), id);
    },
    recordEvent(id: string, event: AgentEvent, now: Date) {
      addEvent(id, now.toISOString(), JSON.stringify(event));
    },
    recordTelemetry(id: string, telemetry: Telemetry, now: Date) {
      setTelemetry.run(JSON.stringify(telemetry), now.toISOString(), id);
    },
    events(id: string, limit: number): DeviceEventRecord[] {
      const rows = db
        .prepare(
          'SELECT device, received_at, event FROM fleet_events WHERE device = ? ORDER BY seq DESC LIMIT ?',
        )
        .all(id, limit) as Array<{ device: string; received_at: string; event: string }>;
      return rows.map((r) => ({
        device: r.device,
        receivedAt: r.received_at,
        event: JSON.parse(r.event) as AgentEvent,
      }));
    },
  };
}
