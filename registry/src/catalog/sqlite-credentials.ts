// The namespaces' publisher keys and API tokens in SQLite (the Catalog's key and token methods).
import { RegistryError } from '@bpfleet/sdk/errors';
import type Database from 'better-sqlite3';
import type { Catalog, PublisherKey, TokenRecord } from './catalog.js';
import { type TokenRow, toToken } from './catalog-rows.js';
import { isConstraint } from './is-constraint.js';

export type CredentialMethods = Pick<
  Catalog,
  | 'addPublisherKey'
  | 'listPublisherKeys'
  | 'removePublisherKey'
  | 'createToken'
  | 'findTokenByHash'
  | 'listTokens'
  | 'revokeToken'
>;

export function sqliteCredentials(
  db: Database.Database,
  requireNamespace: (name: string) => void,
): CredentialMethods {
  const tokenByHash = db.prepare('SELECT * FROM tokens WHERE hash = ?');
  return {
    async addPublisherKey(key: PublisherKey) {
      requireNamespace(key.namespace);
      try {
        db.prepare(
          'INSERT INTO publisher_keys (namespace, key_id, public_key_pem, added_at) VALUES (?, ?, ?, ?)',
        ).run(key.namespace, key.keyId, key.publicKeyPem, key.addedAt);
      } catch (err) {
        if (isConstraint(err, 'SQLITE_CONSTRAINT')) {
          throw new RegistryError(
            'KEY_EXISTS',
            `namespace ${key.namespace}: key ${key.keyId} already registered`,
          );
        }
        throw err;
      }
    },
    async listPublisherKeys(namespace) {
      const rows = db
        .prepare('SELECT * FROM publisher_keys WHERE namespace = ? ORDER BY added_at, key_id')
        .all(namespace) as Array<{
        namespace: string;
        key_id: string;
        public_key_pem: string;
        added_at: string;
      }>;
      return rows.map((r) => ({
        namespace: r.namespace,
        keyId: r.key_id,
        publicKeyPem: r.public_key_pem,
        addedAt: r.added_at,
      }));
    },
    async removePublisherKey(namespace, keyId) {
      return (
        db.prepare('DELETE FROM publisher_keys WHERE namespace = ? AND key_id = ?').run(namespace, keyId)
          .changes > 0
      );
    },

    async createToken(t: TokenRecord) {
      requireNamespace(t.namespace);
      db.prepare(
        'INSERT INTO tokens (id, namespace, label, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(t.id, t.namespace, t.label, t.hash, t.createdAt, t.revokedAt);
    },
    async findTokenByHash(hash) {
      const row = tokenByHash.get(hash) as TokenRow | undefined;
      return row ? toToken(row) : undefined;
    },
    async listTokens(namespace) {
      const rows = db
        .prepare('SELECT * FROM tokens WHERE namespace = ? ORDER BY created_at, id')
        .all(namespace);
      return (rows as TokenRow[]).map(toToken);
    },
    async revokeToken(id, at) {
      const info = db
        .prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
        .run(at.toISOString(), id);
      return info.changes > 0;
    },
  };
}
