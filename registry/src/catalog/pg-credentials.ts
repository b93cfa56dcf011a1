// The namespaces' publisher keys and API tokens in PostgreSQL (the Catalog's key and token methods).
import { RegistryError } from '@bpfleet/sdk/errors';
import type pg from 'pg';
import type { PublisherKey, TokenRecord } from './catalog.js';
import { type TokenRow, toToken } from './catalog-rows.js';
import { FOREIGN_KEY_VIOLATION, isPgError, rows, UNIQUE_VIOLATION } from './pg-pool.js';
import type { CredentialMethods } from './sqlite-credentials.js';

const namespaceNotFound = (name: string) =>
  new RegistryError('NAMESPACE_NOT_FOUND', `namespace ${name}: not found`);

export function pgCredentials(pool: pg.Pool): CredentialMethods {
  return {
    async addPublisherKey(key: PublisherKey) {
      try {
        await pool.query(
          'INSERT INTO publisher_keys (namespace, key_id, public_key_pem, added_at) VALUES ($1, $2, $3, $4)',
          [key.namespace, key.keyId, key.publicKeyPem, key.addedAt],
        );
      } catch (err) {
        if (isPgError(err, FOREIGN_KEY_VIOLATION)) throw namespaceNotFound(key.namespace);
        if (isPgError(err, UNIQUE_VIOLATION)) {
          throw new RegistryError(
            'KEY_EXISTS',
            `namespace ${key.namespace}: key ${key.keyId} already registered`,
          );
        }
        throw err;
      }
    },
    async listPublisherKeys(namespace) {
      const found = await rows<{
        namespace: string;
        key_id: string;
        public_key_pem: string;
        added_at: string;
      }>(pool, 'SELECT * FROM publisher_keys WHERE namespace = $1 ORDER BY added_at, key_id', [namespace]);
      return found.map((r) => ({
        namespace: r.namespace,
        keyId: r.key_id,
        publicKeyPem: r.public_key_pem,
        addedAt: r.added_at,
      }));
    },
    async removePublisherKey(namespace, keyId) {
      const result = await pool.query('DELETE FROM publisher_keys WHERE namespace = $1 AND key_id = $2', [
        namespace,
        keyId,
      ]);
      return (result.rowCount ?? 0) > 0;
    },

    async createToken(t: TokenRecord) {
      try {
        await pool.query(
          'INSERT INTO tokens (id, namespace, label, hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)',
          [t.id, t.namespace, t.label, t.hash, t.createdAt, t.revokedAt],
        );
      } catch (err) {
        if (isPgError(err, FOREIGN_KEY_VIOLATION)) throw namespaceNotFound(t.namespace);
        throw err;
      }
    },
    async findTokenByHash(hash) {
      const [row] = await rows<TokenRow>(pool, 'SELECT * FROM tokens WHERE hash = $1', [hash]);
      return row ? toToken(row) : undefined;
    },
    async listTokens(namespace) {
      const found = await rows<TokenRow>(
        pool,
        'SELECT * FROM tokens WHERE namespace = $1 ORDER BY created_at, id',
        [namespace],
      );
      return found.map(toToken);
    },
    async revokeToken(id, at) {
      const result = await pool.query(
        'UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL',
        [at.toISOString(), id],
      );
      return (result.rowCount ?? 0) > 0;
    },
  };
}
