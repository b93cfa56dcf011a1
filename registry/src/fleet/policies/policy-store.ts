// The last policy the edge published per target (device or group), with its signed bundle and serial.
import type { Policy, PolicyTarget } from '@bpfleet/sdk/policy';
import type { Database } from 'better-sqlite3';

export interface StoredPolicy {
  target: string;
  serial: number;
  policy: Policy;
  /** The signed bundle exactly as published (JSON text). */
  bundle: string;
  updatedAt: string;
}

export interface PolicyStore {
  get(target: PolicyTarget): StoredPolicy | undefined;
  list(): StoredPolicy[];
  /** Saves only when `policy.serial` is above the stored one; returns whether it did. */
  saveIfNewer(policy: Policy, bundle: string, now: Date): boolean;
  /** Per device: its own policy before a rollout first moved it (null: it had none). */
  backup(rolloutId: string, device: string, programs: Policy['programs'] | null): void;
  backups(rolloutId: string): Map<string, Policy['programs'] | null>;
}

export function targetKey(target: PolicyTarget): string {
  return 'device' in target ? `device:${target.device}` : `group:${target.group}`;
}

export function createSqlitePolicyStore(db: Database): PolicyStore {
  db.exec(`CREATE TABLE IF NOT EXISTS fleet_policies (
    target TEXT PRIMARY KEY, serial INTEGER NOT NULL, policy TEXT NOT NULL, bundle TEXT NOT NULL, updated_at TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS fleet_rollout_backups (
    rollout TEXT NOT NULL, device TEXT NOT NULL, programs TEXT, PRIMARY KEY (rollout, device)
  )`);
  type Row = { target: string; serial: number; policy: string; bundle: string; updated_at: string };
  const toStored = (r: Row): StoredPolicy => ({
    target: r.target,
    serial: r.serial,
    policy: JSON.parse(r.policy) as Policy,
    bundle: r.bundle,
    updatedAt: r.updated_at,
  });
  const upsert =
    db.prepare(`INSERT INTO fleet_policies (target, serial, policy, bundle, updated_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT(target) DO UPDATE SET serial = excluded.serial, policy = excluded.policy, bundle = excluded.bundle,
      updated_at = excluded.updated_at WHERE excluded.serial > fleet_policies.serial`);
  return {
    get(target) {
      const row = db.prepare('SELECT * FROM fleet_policies WHERE target = ?').get(targetKey(target)) as
        | Row
        | undefined;
      return row ? toStored(row) : undefined;
    },
    list() {
      return (db.prepare('SELECT * FROM fleet_policies ORDER BY target').all() as Row[]).map(toStored);
    },
    saveIfNewer(policy, bundle, now) {
      const info = upsert.run(
        targetKey(policy.target),
        policy.serial,
        JSON.stringify(policy),
        bundle,
        now.toISOString(),
      );
      return info.changes > 0;
    },
    backup(rolloutId, device, programs) {
      // The first backup wins: a retried move must not overwrite the pre-rollout state with the rollout's.
      db.prepare(
        'INSERT OR IGNORE INTO fleet_rollout_backups (rollout, device, programs) VALUES (?, ?, ?)',
      ).run(rolloutId, device, programs ? JSON.stringify(programs) : null);
    },
    backups(rolloutId) {
      const rows = db
        .prepare('SELECT device, programs FROM fleet_rollout_backups WHERE rollout = ?')
        .all(rolloutId) as Array<{
        device: string;
        programs: string | null;
      }>;
      return new Map(
        rows.map((r) => [r.device, r.programs ? (JSON.parse(r.programs) as Policy['programs']) : null]),
      );
    },
  };
}
