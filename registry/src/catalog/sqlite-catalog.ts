// The embedded Catalog: better-sqlite3 in WAL mode with synchronous=FULL, so a kill -9 loses no commit.
import { RegistryError } from '@bpfleet/sdk/errors';
import Database from 'better-sqlite3';
import semver from 'semver';
import type {
  Catalog,
  Channel,
  IndexPackage,
  Namespace,
  PackageQuery,
  PackageSummary,
  StoredIndex,
  VersionRecord,
} from './catalog.js';
import { bySemverDesc, summarizeVersions, toVersion, type VersionRow } from './catalog-rows.js';
import { isConstraint } from './is-constraint.js';
import { migrations } from './migrations.js';
import { sqliteCredentials } from './sqlite-credentials.js';
import { sqliteStatements } from './sqlite-statements.js';

/** Opens (and migrates) the catalog at `path`; `:memory:` for tests. */
export function openSqliteCatalog(path: string): Catalog {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const current = Number(db.pragma('user_version', { simple: true }));
  for (let i = current; i < migrations.length; i++) {
    db.transaction(() => {
      db.exec(migrations[i]!);
      db.pragma(`user_version = ${i + 1}`);
    })();
  }

  const q = {
    bumpChanges: db.prepare("UPDATE counters SET value = value + 1 WHERE name = 'changes'"),
    changes: db.prepare("SELECT value FROM counters WHERE name = 'changes'").pluck(),
    nextSerial: db
      .prepare("UPDATE counters SET value = value + 1 WHERE name = 'index_serial' RETURNING value")
      .pluck(),
    hasDigest: db.prepare('SELECT 1 FROM versions WHERE digest = ? LIMIT 1').pluck(),
    versionsOf: db.prepare('SELECT * FROM versions WHERE namespace = ? AND name = ?'),
    version: db.prepare('SELECT * FROM versions WHERE namespace = ? AND name = ? AND version = ?'),
    // Read on every index request: prepared once, as preparing costs more than the lookup.
    signedIndex: db.prepare('SELECT * FROM signed_indexes WHERE scope = ?'),
  };
  const mutate = <A extends unknown[], R>(fn: (...args: A) => R) =>
    db.transaction((...args: A) => {
      const result = fn(...args);
      q.bumpChanges.run();
      return result;
    });

  const namespaceExists = (name: string) => db.prepare('SELECT 1 FROM namespaces WHERE name = ?').get(name);
  const requireNamespace = (name: string) => {
    if (!namespaceExists(name))
      throw new RegistryError('NAMESPACE_NOT_FOUND', `namespace ${name}: not found`);
  };

  function summarize(namespace: string, name: string): PackageSummary | undefined {
    return summarizeVersions(
      namespace,
      name,
      (q.versionsOf.all(namespace, name) as VersionRow[]).map(toVersion),
    );
  }

  const insertVersion = mutate((r: VersionRecord) => {
    requireNamespace(r.namespace);
    try {
      db.prepare(
        `INSERT INTO versions (namespace, name, version, digest, size, manifest_digest, manifest, bundle,
           description, license, published_at, yanked, yank_reason)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        r.namespace,
        r.name,
        r.version,
        r.digest,
        r.size,
        r.manifestDigest,
        r.manifest,
        r.bundle,
        r.description,
        r.license,
        r.publishedAt,
        r.yanked ? 1 : 0,
        r.yankReason,
      );
    } catch (err) {
      if (isConstraint(err, 'SQLITE_CONSTRAINT_PRIMARYKEY')) {
        throw new RegistryError(
          'VERSION_EXISTS',
          `publish ${r.namespace}/${r.name}@${r.version}: version already exists (versions are immutable)`,
        );
      }
      throw err;
    }
  });

  const setYanked = mutate(
    (ns: string, name: string, version: string, reason: string | null, yanked: boolean) =>
      setYankedRow(ns, name, version, reason, yanked),
  );
  const setYankedRow = (
    ns: string,
    name: string,
    version: string,
    reason: string | null,
    yanked: boolean,
  ) => {
    const info = db
      .prepare(
        'UPDATE versions SET yanked = ?, yank_reason = ? WHERE namespace = ? AND name = ? AND version = ?',
      )
      .run(yanked ? 1 : 0, reason, ns, name, version);
    return info.changes > 0;
  };

  const setChannel = mutate((ns: string, name: string, channel: string, version: string, at: string) =>
    setChannelRow(ns, name, channel, version, at),
  );
  const setChannelRow = (ns: string, name: string, channel: string, version: string, at: string) => {
    if (!q.version.get(ns, name, version)) {
      throw new RegistryError(
        'VERSION_NOT_FOUND',
        `channel ${ns}/${name}#${channel}: version ${version} not found`,
      );
    }
    db.prepare(
      `INSERT INTO channels (namespace, name, channel, version, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (namespace, name, channel) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
    ).run(ns, name, channel, version, at);
  };
  const statements = sqliteStatements(db, {
    setChannelRow,
    setYankedRow,
    bumpChanges: () => q.bumpChanges.run(),
  });

  function getSignedIndex(scope: string): StoredIndex | undefined {
    const row = q.signedIndex.get(scope) as
      | { serial: number; changes: number; issued_at: string; expires: string; body: string }
      | undefined;
    return row
      ? {
          serial: row.serial,
          changes: row.changes,
          issuedAt: row.issued_at,
          expires: row.expires,
          body: row.body,
        }
      : undefined;
  }

  // Compare-and-set on the serial: with several processes signing at once, the highest serial stays stored.
  const putSignedIndex = db.transaction((scope: string, index: StoredIndex): StoredIndex => {
    db.prepare(
      `INSERT INTO signed_indexes (scope, serial, changes, issued_at, expires, body) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (scope) DO UPDATE SET serial = excluded.serial, changes = excluded.changes,
         issued_at = excluded.issued_at, expires = excluded.expires, body = excluded.body
       WHERE excluded.serial > signed_indexes.serial`,
    ).run(scope, index.serial, index.changes, index.issuedAt, index.expires, index.body);
    return getSignedIndex(scope)!;
  });

  return {
    async createNamespace(name, at) {
      const ns: Namespace = { name, createdAt: at.toISOString() };
      try {
        db.prepare('INSERT INTO namespaces (name, created_at) VALUES (?, ?)').run(ns.name, ns.createdAt);
      } catch (err) {
        if (isConstraint(err, 'SQLITE_CONSTRAINT')) {
          throw new RegistryError('NAMESPACE_EXISTS', `namespace ${name}: already exists`);
        }
        throw err;
      }
      return ns;
    },
    async getNamespace(name) {
      const row = db.prepare('SELECT name, created_at FROM namespaces WHERE name = ?').get(name) as
        | { name: string; created_at: string }
        | undefined;
      return row ? { name: row.name, createdAt: row.created_at } : undefined;
    },
    async listNamespaces() {
      const rows = db.prepare('SELECT name, created_at FROM namespaces ORDER BY name').all() as Array<{
        name: string;
        created_at: string;
      }>;
      return rows.map((r) => ({ name: r.name, createdAt: r.created_at }));
    },

    ...sqliteCredentials(db, requireNamespace),

    async insertVersion(record) {
      insertVersion(record);
    },
    async getVersion(namespace, name, version) {
      const row = q.version.get(namespace, name, version) as VersionRow | undefined;
      return row ? toVersion(row) : undefined;
    },
    async listVersions(namespace, name) {
      return (q.versionsOf.all(namespace, name) as VersionRow[]).map(toVersion).sort(bySemverDesc);
    },
    async setYanked(namespace, name, version, reason, _at) {
      return setYanked(namespace, name, version, reason, reason !== null);
    },
    async getPackage(namespace, name) {
      return summarize(namespace, name);
    },
    async listPackages(query: PackageQuery) {
      const where: string[] = [];
      const args: unknown[] = [];
      if (query.namespace) {
        where.push('namespace = ?');
        args.push(query.namespace);
      }
      if (query.text) {
        where.push(
          "(instr(lower(namespace || '/' || name), lower(?)) > 0 OR instr(lower(description), lower(?)) > 0)",
        );
        args.push(query.text, query.text);
      }
      const sql = `SELECT DISTINCT namespace, name FROM versions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                   ORDER BY namespace, name LIMIT ? OFFSET ?`;
      const rows = db.prepare(sql).all(...args, query.limit, query.offset) as Array<{
        namespace: string;
        name: string;
      }>;
      return rows
        .map((r) => summarize(r.namespace, r.name))
        .filter((s): s is PackageSummary => s !== undefined);
    },
    async hasDigest(digest) {
      return q.hasDigest.get(digest) !== undefined;
    },
    async referencedDigests() {
      return new Set(db.prepare('SELECT DISTINCT digest FROM versions').pluck().all() as string[]);
    },

    async setChannel(namespace, name, channel, version, at) {
      setChannel(namespace, name, channel, version, at.toISOString());
    },
    async listChannels(namespace, name) {
      const rows = db
        .prepare(
          'SELECT channel, version, updated_at FROM channels WHERE namespace = ? AND name = ? ORDER BY channel',
        )
        .all(namespace, name) as Array<{ channel: string; version: string; updated_at: string }>;
      return rows.map((r): Channel => ({ channel: r.channel, version: r.version, updatedAt: r.updated_at }));
    },

    async applyStatement(namespace, name, statement, effect, at) {
      return statements.apply(namespace, name, statement, effect, at.toISOString());
    },
    async listStatements(namespace, name) {
      return statements.list(namespace, name);
    },

    async indexPackages(namespace) {
      const rows = (
        namespace
          ? db.prepare('SELECT * FROM versions WHERE namespace = ?').all(namespace)
          : db.prepare('SELECT * FROM versions').all()
      ) as VersionRow[];
      const channels = (
        namespace
          ? db.prepare('SELECT * FROM channels WHERE namespace = ?').all(namespace)
          : db.prepare('SELECT * FROM channels').all()
      ) as Array<{ namespace: string; name: string; channel: string; version: string }>;
      const packages = new Map<string, IndexPackage>();
      for (const row of rows) {
        const key = `${row.namespace}/${row.name}`;
        let pkg = packages.get(key);
        if (!pkg) {
          pkg = { namespace: row.namespace, name: row.name, versions: [], channels: {}, statements: [] };
          packages.set(key, pkg);
        }
        const { version, digest, size, manifestDigest, yanked } = toVersion(row);
        pkg.versions.push({ version, digest, size, manifestDigest, yanked });
      }
      for (const ch of channels) {
        const pkg = packages.get(`${ch.namespace}/${ch.name}`);
        if (pkg) pkg.channels[ch.channel] = ch.version;
      }
      for (const st of statements.forIndex(namespace)) {
        packages.get(`${st.namespace}/${st.name}`)?.statements.push(st.body);
      }
      const out = [...packages.values()].sort((a, b) =>
        `${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1,
      );
      for (const pkg of out) pkg.versions.sort((a, b) => semver.compare(a.version, b.version));
      return out;
    },
    async nextIndexSerial() {
      return Number(q.nextSerial.get());
    },
    async changeCounter() {
      return Number(q.changes.get());
    },

    async getSignedIndex(scope) {
      return getSignedIndex(scope);
    },
    async putSignedIndex(scope, index) {
      return putSignedIndex(scope, index);
    },

    async getSetting(key) {
      return db.prepare('SELECT value FROM settings WHERE key = ?').pluck().get(key) as string | undefined;
    },
    async setSetting(key, value) {
      db.prepare(
        'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ).run(key, value);
    },

    async close() {
      db.close();
    },
  };
}
