// PostgreSQL schema migrations, applied in order under an advisory lock so edges starting together migrate once.
import type pg from 'pg';

// Keys sort byte-wise (COLLATE "C") whatever the cluster's locale, as they do in SQLite.
export const pgMigrations: string[] = [
  `CREATE TABLE namespaces (
     name TEXT COLLATE "C" PRIMARY KEY,
     created_at TEXT NOT NULL
   );
   CREATE TABLE publisher_keys (
     namespace TEXT COLLATE "C" NOT NULL REFERENCES namespaces(name),
     key_id TEXT COLLATE "C" NOT NULL,
     public_key_pem TEXT NOT NULL,
     added_at TEXT NOT NULL,
     PRIMARY KEY (namespace, key_id)
   );
   CREATE TABLE tokens (
     id TEXT COLLATE "C" PRIMARY KEY,
     namespace TEXT COLLATE "C" NOT NULL REFERENCES namespaces(name),
     label TEXT NOT NULL,
     hash TEXT NOT NULL UNIQUE,
     created_at TEXT NOT NULL,
     revoked_at TEXT
   );
   CREATE TABLE versions (
     namespace TEXT COLLATE "C" NOT NULL REFERENCES namespaces(name),
     name TEXT COLLATE "C" NOT NULL,
     version TEXT COLLATE "C" NOT NULL,
     digest TEXT NOT NULL,
     size BIGINT NOT NULL,
     manifest_digest TEXT NOT NULL,
     manifest TEXT NOT NULL,
     bundle TEXT NOT NULL,
     description TEXT NOT NULL,
     license TEXT NOT NULL,
     published_at TEXT NOT NULL,
     yanked BOOLEAN NOT NULL DEFAULT false,
     yank_reason TEXT,
     PRIMARY KEY (namespace, name, version)
   );
   CREATE INDEX versions_digest ON versions(digest);
   CREATE TABLE channels (
     namespace TEXT COLLATE "C" NOT NULL,
     name TEXT COLLATE "C" NOT NULL,
     channel TEXT COLLATE "C" NOT NULL,
     version TEXT COLLATE "C" NOT NULL,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (namespace, name, channel),
     FOREIGN KEY (namespace, name, version) REFERENCES versions(namespace, name, version)
   );
   CREATE TABLE settings (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL
   );
   -- The change counter is a row, not a sequence: it moves inside the writing transaction, so an index built
   -- from a snapshot never claims a change it cannot see.
   CREATE TABLE counters (
     name TEXT PRIMARY KEY,
     value BIGINT NOT NULL
   );
   INSERT INTO counters (name, value) VALUES ('changes', 0);
   -- Index serials only need to grow (gaps are fine): a sequence hands them out without a row lock.
   CREATE SEQUENCE index_serial;
   CREATE TABLE signed_indexes (
     scope TEXT COLLATE "C" PRIMARY KEY,
     serial BIGINT NOT NULL,
     changes BIGINT NOT NULL,
     issued_at TEXT NOT NULL,
     expires TEXT NOT NULL,
     body TEXT NOT NULL
   );
   CREATE TABLE statements (
     namespace TEXT COLLATE "C" NOT NULL,
     name TEXT COLLATE "C" NOT NULL,
     stream TEXT COLLATE "C" NOT NULL,
     serial BIGINT NOT NULL,
     body TEXT NOT NULL,
     stored_at TEXT NOT NULL,
     PRIMARY KEY (namespace, name, stream)
   );`,
];

/** An arbitrary constant naming the catalog's migration lock among the database's advisory locks. */
const MIGRATION_LOCK = 0x6270666c;

export async function migratePg(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)');
    const { rows } = await client.query<{ v: number | null }>(
      'SELECT max(version) AS v FROM schema_migrations',
    );
    for (let i = rows[0]?.v ?? 0; i < pgMigrations.length; i++) {
      await client.query(pgMigrations[i]!);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [i + 1]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
