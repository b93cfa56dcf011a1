// The shared Catalog on PostgreSQL: several edges on one database; constraints and transactions keep the contract.
import { RegistryError } from '@bpfleet/sdk/errors';
import pg from 'pg';
import type { Catalog, Channel, Namespace, PackageSummary } from './catalog.js';
import { bySemverDesc, summarizeVersions, toVersion, type VersionRow } from './catalog-rows.js';
import { pgCredentials } from './pg-credentials.js';
import { pgIndexMethods } from './pg-index.js';
import { migratePg } from './pg-migrations.js';
import { FOREIGN_KEY_VIOLATION, inTransaction, isPgError, rows, UNIQUE_VIOLATION } from './pg-pool.js';

export interface PgCatalogOptions {
  /** Connections in this process's pool (default 10). */
  maxConnections?: number;
}

/** Connects to `url` (postgres://…), migrates, and returns the catalog; `close()` ends the pool. */
export async function openPgCatalog(url: string, options: PgCatalogOptions = {}): Promise<Catalog> {
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10 });
  // An idle connection the server dropped (a restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  try {
    await migratePg(pool);
  } catch (err) {
    await pool.end();
    throw new RegistryError('CATALOG_UNAVAILABLE', `catalog ${redact(url)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const bumpChanges = (c: pg.PoolClient) =>
    c.query("UPDATE counters SET value = value + 1 WHERE name = 'changes'");
  const versionsOf = (ns: string, name: string) =>
    rows<VersionRow>(pool, 'SELECT * FROM versions WHERE namespace = $1 AND name = $2', [ns, name]);

  async function summarize(namespace: string, name: string): Promise<PackageSummary | undefined> {
    return summarizeVersions(namespace, name, (await versionsOf(namespace, name)).map(toVersion));
  }

  return {
    async createNamespace(name, at) {
      const ns: Namespace = { name, createdAt: at.toISOString() };
      try {
        await pool.query('INSERT INTO namespaces (name, created_at) VALUES ($1, $2)', [
          ns.name,
          ns.createdAt,
        ]);
      } catch (err) {
        if (isPgError(err, UNIQUE_VIOLATION))
          throw new RegistryError('NAMESPACE_EXISTS', `namespace ${name}: already exists`);
        throw err;
      }
      return ns;
    },
    async getNamespace(name) {
      const [row] = await rows<{ name: string; created_at: string }>(
        pool,
        'SELECT name, created_at FROM namespaces WHERE name = $1',
        [name],
      );
      return row ? { name: row.name, createdAt: row.created_at } : undefined;
    },
    async listNamespaces() {
      const found = await rows<{ name: string; created_at: string }>(
        pool,
        'SELECT name, created_at FROM namespaces ORDER BY name',
      );
      return found.map((r) => ({ name: r.name, createdAt: r.created_at }));
    },

    ...pgCredentials(pool),

    async insertVersion(r) {
      // The primary key decides a race: the loser waits for the winner's commit, then fails with 23505.
      await inTransaction(pool, async (c) => {
        await c.query(
          `INSERT INTO versions (namespace, name, version, digest, size, manifest_digest, manifest, bundle,
             description, license, published_at, yanked, yank_reason)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
          [
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
            r.yanked,
            r.yankReason,
          ],
        );
        await bumpChanges(c);
      }).catch((err: unknown) => {
        if (isPgError(err, UNIQUE_VIOLATION)) {
          throw new RegistryError(
            'VERSION_EXISTS',
            `publish ${r.namespace}/${r.name}@${r.version}: version already exists (versions are immutable)`,
          );
        }
        if (isPgError(err, FOREIGN_KEY_VIOLATION))
          throw new RegistryError('NAMESPACE_NOT_FOUND', `namespace ${r.namespace}: not found`);
        throw err;
      });
    },
    async getVersion(namespace, name, version) {
      const [row] = await rows<VersionRow>(
        pool,
        'SELECT * FROM versions WHERE namespace = $1 AND name = $2 AND version = $3',
        [namespace, name, version],
      );
      return row ? toVersion(row) : undefined;
    },
    async listVersions(namespace, name) {
      return (await versionsOf(namespace, name)).map(toVersion).sort(bySemverDesc);
    },
    async setYanked(namespace, name, version, reason, _at) {
      return inTransaction(pool, async (c) => {
        const changed = await setYankedRow(c, namespace, name, version, reason);
        if (changed) await bumpChanges(c);
        return changed;
      });
    },
    async getPackage(namespace, name) {
      return summarize(namespace, name);
    },
    async listPackages(query) {
      const where: string[] = [];
      const args: unknown[] = [];
      if (query.namespace) {
        args.push(query.namespace);
        where.push(`namespace = $${args.length}`);
      }
      if (query.text) {
        args.push(query.text);
        const t = `lower($${args.length})`;
        where.push(
          `(strpos(lower(namespace || '/' || name), ${t}) > 0 OR strpos(lower(description), ${t}) > 0)`,
        );
      }
      args.push(query.limit, query.offset);
      const found = await rows<{ namespace: string; name: string }>(
        pool,
        `SELECT DISTINCT namespace, name FROM versions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY namespace, name LIMIT $${args.length - 1} OFFSET $${args.length}`,
        args,
      );
      const summaries = await Promise.all(found.map((r) => summarize(r.namespace, r.name)));
      return summaries.filter((s): s is PackageSummary => s !== undefined);
    },
    async hasDigest(digest) {
      return (await rows(pool, 'SELECT 1 FROM versions WHERE digest = $1 LIMIT 1', [digest])).length > 0;
    },
    async referencedDigests() {
      const found = await rows<{ digest: string }>(pool, 'SELECT DISTINCT digest FROM versions');
      return new Set(found.map((r) => r.digest));
    },

    async setChannel(namespace, name, channel, version, at) {
      await inTransaction(pool, async (c) => {
        await setChannelRow(c, namespace, name, channel, version, at.toISOString());
        await bumpChanges(c);
      });
    },
    async listChannels(namespace, name) {
      const found = await rows<{ channel: string; version: string; updated_at: string }>(
        pool,
        'SELECT channel, version, updated_at FROM channels WHERE namespace = $1 AND name = $2 ORDER BY channel',
        [namespace, name],
      );
      return found.map((r): Channel => ({ channel: r.channel, version: r.version, updatedAt: r.updated_at }));
    },

    ...pgIndexMethods(pool, { setChannelRow, setYankedRow, bumpChanges }),

    async getSetting(key) {
      const [row] = await rows<{ value: string }>(pool, 'SELECT value FROM settings WHERE key = $1', [key]);
      return row?.value;
    },
    async setSetting(key, value) {
      await pool.query(
        'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        [key, value],
      );
    },

    async close() {
      await pool.end();
    },
  };
}

async function setYankedRow(
  c: pg.PoolClient,
  ns: string,
  name: string,
  version: string,
  reason: string | null,
): Promise<boolean> {
  const result = await c.query(
    'UPDATE versions SET yanked = $1, yank_reason = $2 WHERE namespace = $3 AND name = $4 AND version = $5',
    [reason !== null, reason, ns, name, version],
  );
  return (result.rowCount ?? 0) > 0;
}

async function setChannelRow(
  c: pg.PoolClient,
  ns: string,
  name: string,
  channel: string,
  version: string,
  at: string,
): Promise<void> {
  // The foreign key to versions refuses a missing version even when a delete races this check.
  try {
    await c.query(
      `INSERT INTO channels (namespace, name, channel, version, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (namespace, name, channel) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
      [ns, name, channel, version, at],
    );
  } catch (err) {
    if (isPgError(err, FOREIGN_KEY_VIOLATION))
      throw new RegistryError(
        'VERSION_NOT_FOUND',
        `channel ${ns}/${name}#${channel}: version ${version} not found`,
      );
    throw err;
  }
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
