// SQLite schema migrations, applied in order; `PRAGMA user_version` records how far a database got.
export const migrations: string[] = [
  `CREATE TABLE namespaces (
     name TEXT PRIMARY KEY,
     created_at TEXT NOT NULL
   );
   CREATE TABLE publisher_keys (
     namespace TEXT NOT NULL REFERENCES namespaces(name),
     key_id TEXT NOT NULL,
     public_key_pem TEXT NOT NULL,
     added_at TEXT NOT NULL,
     PRIMARY KEY (namespace, key_id)
   );
   CREATE TABLE tokens (
     id TEXT PRIMARY KEY,
     namespace TEXT NOT NULL REFERENCES namespaces(name),
     label TEXT NOT NULL,
     hash TEXT NOT NULL UNIQUE,
     created_at TEXT NOT NULL,
     revoked_at TEXT
   );
   CREATE TABLE versions (
     namespace TEXT NOT NULL REFERENCES namespaces(name),
     name TEXT NOT NULL,
     version TEXT NOT NULL,
     digest TEXT NOT NULL,
     size INTEGER NOT NULL,
     manifest_digest TEXT NOT NULL,
     manifest TEXT NOT NULL,
     bundle TEXT NOT NULL,
     description TEXT NOT NULL,
     license TEXT NOT NULL,
     published_at TEXT NOT NULL,
     yanked INTEGER NOT NULL DEFAULT 0,
     yank_reason TEXT,
     PRIMARY KEY (namespace, name, version)
   );
   CREATE INDEX versions_digest ON versions(digest);
   CREATE TABLE channels (
     namespace TEXT NOT NULL,
     name TEXT NOT NULL,
     channel TEXT NOT NULL,
     version TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (namespace, name, channel),
     FOREIGN KEY (namespace, name, version) REFERENCES versions(namespace, name, version)
   );
   CREATE TABLE settings (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL
   );
   CREATE TABLE counters (
     name TEXT PRIMARY KEY,
     value INTEGER NOT NULL
   );
   INSERT INTO counters (name, value) VALUES ('index_serial', 0), ('changes', 0);`,
  `CREATE TABLE signed_indexes (
     scope TEXT PRIMARY KEY,
     serial INTEGER NOT NULL,
     changes INTEGER NOT NULL,
     issued_at TEXT NOT NULL,
     expires TEXT NOT NULL,
     body TEXT NOT NULL
   );`,
  // The latest publisher statement per stream (one channel, or one version's yank state), served in the index.
  `CREATE TABLE statements (
     namespace TEXT NOT NULL,
     name TEXT NOT NULL,
     stream TEXT NOT NULL,
     serial INTEGER NOT NULL,
     body TEXT NOT NULL,
     stored_at TEXT NOT NULL,
     PRIMARY KEY (namespace, name, stream)
   );`,
];
