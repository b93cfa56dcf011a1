// The publisher channel statements in SQLite: each stored with its effect in one transaction, newest serial per stream.
import type Database from 'better-sqlite3';
import type { StatementEffect, StoredStatement } from './catalog.js';

/** What applying a statement writes besides the statement itself (rows of the main catalog). */
export interface StatementEffects {
  setChannelRow(ns: string, name: string, channel: string, version: string, at: string): void;
  setYankedRow(ns: string, name: string, version: string, reason: string | null, yanked: boolean): boolean;
  bumpChanges(): void;
}

export interface SqliteStatements {
  /** Stores the statement and applies its effect in one transaction; false if its serial is not newer. */
  apply(ns: string, name: string, st: StoredStatement, effect: StatementEffect, at: string): boolean;
  list(namespace: string, name: string): StoredStatement[];
  /** The statement bodies for the index, of one namespace or all, ordered by stream. */
  forIndex(namespace: string | undefined): Array<{ namespace: string; name: string; body: string }>;
}

export function sqliteStatements(db: Database.Database, fx: StatementEffects): SqliteStatements {
  const apply = db.transaction(
    (ns: string, name: string, st: StoredStatement, effect: StatementEffect, at: string): boolean => {
      const stored = db
        .prepare('SELECT serial FROM statements WHERE namespace = ? AND name = ? AND stream = ?')
        .pluck()
        .get(ns, name, st.stream) as number | undefined;
      if (stored !== undefined && stored >= st.serial) return false;
      if (effect.kind === 'channel') fx.setChannelRow(ns, name, effect.channel, effect.version, at);
      else fx.setYankedRow(ns, name, effect.version, effect.reason, effect.reason !== null);
      db.prepare(
        `INSERT INTO statements (namespace, name, stream, serial, body, stored_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (namespace, name, stream) DO UPDATE SET serial = excluded.serial, body = excluded.body,
         stored_at = excluded.stored_at`,
      ).run(ns, name, st.stream, st.serial, st.body, at);
      fx.bumpChanges();
      return true;
    },
  );

  return {
    apply,
    list(namespace, name) {
      return db
        .prepare(
          'SELECT stream, serial, body FROM statements WHERE namespace = ? AND name = ? ORDER BY stream',
        )
        .all(namespace, name) as StoredStatement[];
    },
    forIndex(namespace) {
      return (
        namespace
          ? db.prepare('SELECT * FROM statements WHERE namespace = ? ORDER BY stream').all(namespace)
          : db.prepare('SELECT * FROM statements ORDER BY stream').all()
      ) as Array<{ namespace: string; name: string; body: string }>;
    },
  };
}
