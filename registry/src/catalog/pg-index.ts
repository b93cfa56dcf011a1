// PostgreSQL: what the signed index is built from and kept in (statements, index content, serials, signed indexes).
import type pg from 'pg';
import semver from 'semver';
import type { Catalog, IndexPackage, StoredIndex, StoredStatement } from './catalog.js';
import { toVersion, type VersionRow } from './catalog-rows.js';
import { inTransaction, rows } from './pg-pool.js';

/** The catalog rows a statement's effect writes, inside the statement's transaction. */
export interface PgStatementEffects {
  setChannelRow(
    c: pg.PoolClient,
    ns: string,
    name: string,
    channel: string,
    version: string,
    at: string,
  ): Promise<void>;
  setYankedRow(
    c: pg.PoolClient,
    ns: string,
    name: string,
    version: string,
    reason: string | null,
  ): Promise<boolean>;
  bumpChanges(c: pg.PoolClient): Promise<unknown>;
}

type IndexMethods = Pick<
  Catalog,
  | 'applyStatement'
  | 'listStatements'
  | 'indexPackages'
  | 'nextIndexSerial'
  | 'changeCounter'
  | 'getSignedIndex'
  | 'putSignedIndex'
>;

interface IndexRow {
  serial: string;
  changes: string;
  issued_at: string;
  expires: string;
  body: string;
}

const toIndex = (row: IndexRow): StoredIndex => ({
  serial: Number(row.serial),
  changes: Number(row.changes),
  issuedAt: row.issued_at,
  expires: row.expires,
  body: row.body,
});

export function pgIndexMethods(pool: pg.Pool, fx: PgStatementEffects): IndexMethods {
  return {
    async applyStatement(namespace, name, st, effect, at) {
      const stamp = at.toISOString();
      return inTransaction(pool, async (c) => {
        // The upsert takes the stream's row lock and stores only a newer serial: of two concurrent statements
        // with the same serial exactly one returns a row; the other waits, sees it, and changes nothing.
        const stored = await c.query(
          `INSERT INTO statements (namespace, name, stream, serial, body, stored_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (namespace, name, stream) DO UPDATE SET serial = excluded.serial, body = excluded.body,
             stored_at = excluded.stored_at
           WHERE statements.serial < excluded.serial
           RETURNING 1`,
          [namespace, name, st.stream, st.serial, st.body, stamp],
        );
        if (stored.rowCount === 0) return false;
        if (effect.kind === 'channel')
          await fx.setChannelRow(c, namespace, name, effect.channel, effect.version, stamp);
        else await fx.setYankedRow(c, namespace, name, effect.version, effect.reason);
        await fx.bumpChanges(c);
        return true;
      });
    },
    async listStatements(namespace, name) {
      const found = await rows<{ stream: string; serial: string; body: string }>(
        pool,
        'SELECT stream, serial, body FROM statements WHERE namespace = $1 AND name = $2 ORDER BY stream',
        [namespace, name],
      );
      return found.map(
        (r): StoredStatement => ({ stream: r.stream, serial: Number(r.serial), body: r.body }),
      );
    },

    async indexPackages(namespace) {
      // One snapshot for the three reads, so a channel never points at a version the same index lacks.
      const { versions, channels, statements } = await inTransaction(pool, async (c) => {
        await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const where = namespace ? 'WHERE namespace = $1' : '';
        const args = namespace ? [namespace] : [];
        return {
          versions: await rows<VersionRow>(c, `SELECT * FROM versions ${where}`, args),
          channels: await rows<{ namespace: string; name: string; channel: string; version: string }>(
            c,
            `SELECT namespace, name, channel, version FROM channels ${where}`,
            args,
          ),
          statements: await rows<{ namespace: string; name: string; body: string }>(
            c,
            `SELECT namespace, name, body FROM statements ${where} ORDER BY stream`,
            args,
          ),
        };
      });
      const packages = new Map<string, IndexPackage>();
      for (const row of versions) {
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
      for (const st of statements) packages.get(`${st.namespace}/${st.name}`)?.statements.push(st.body);
      const out = [...packages.values()].sort((a, b) =>
        `${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1,
      );
      for (const pkg of out) pkg.versions.sort((a, b) => semver.compare(a.version, b.version));
      return out;
    },
    async nextIndexSerial() {
      const [row] = await rows<{ v: string }>(pool, "SELECT nextval('index_serial') AS v");
      return Number(row!.v);
    },
    async changeCounter() {
      const [row] = await rows<{ value: string }>(pool, "SELECT value FROM counters WHERE name = 'changes'");
      return Number(row!.value);
    },

    async getSignedIndex(scope) {
      const [row] = await rows<IndexRow>(pool, 'SELECT * FROM signed_indexes WHERE scope = $1', [scope]);
      return row ? toIndex(row) : undefined;
    },
    async putSignedIndex(scope, index) {
      // Compare-and-set on the serial in one statement: with several edges signing at once the highest stays.
      await pool.query(
        `INSERT INTO signed_indexes (scope, serial, changes, issued_at, expires, body) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (scope) DO UPDATE SET serial = excluded.serial, changes = excluded.changes,
           issued_at = excluded.issued_at, expires = excluded.expires, body = excluded.body
         WHERE excluded.serial > signed_indexes.serial`,
        [scope, index.serial, index.changes, index.issuedAt, index.expires, index.body],
      );
      const [row] = await rows<IndexRow>(pool, 'SELECT * FROM signed_indexes WHERE scope = $1', [scope]);
      return toIndex(row!);
    },
  };
}
