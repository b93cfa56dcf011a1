// Rollouts persisted in SQLite, so a rollout survives an edge restart and continues where it was.
import { RegistryError } from '@bpfleet/sdk/errors';
import type { Database } from 'better-sqlite3';
import type { Rollout } from './rollout.js';

export interface RolloutStore {
  save(rollout: Rollout): void;
  get(id: string): Rollout | undefined;
  list(): Rollout[];
}

export function createSqliteRolloutStore(db: Database): RolloutStore {
  db.exec(`CREATE TABLE IF NOT EXISTS fleet_rollouts (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL,
    body TEXT NOT NULL
  )`);
  const upsert = db.prepare(
    'INSERT INTO fleet_rollouts (id, created_at, state, body) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state, body = excluded.body',
  );
  const byId = db.prepare('SELECT body FROM fleet_rollouts WHERE id = ?');
  const all = db.prepare('SELECT body FROM fleet_rollouts ORDER BY created_at, id');
  return {
    save(rollout) {
      upsert.run(rollout.id, rollout.createdAt, rollout.state, JSON.stringify(rollout));
    },
    get(id) {
      const row = byId.get(id) as { body: string } | undefined;
      return row ? (JSON.parse(row.body) as Rollout) : undefined;
    },
    list() {
      return (all.all() as Array<{ body: string }>).map((r) => JSON.parse(r.body) as Rollout);
    },
  };
}

export function mustGetRollout(store: RolloutStore, id: string): Rollout {
  const rollout = store.get(id);
  if (!rollout) throw new RegistryError('ROLLOUT_NOT_FOUND', `rollout ${id}: not found`);
  return rollout;
}
