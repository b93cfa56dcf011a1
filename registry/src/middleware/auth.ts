// Bearer-token authentication: the admin token (hash in the catalog) or a namespace-scoped publish token.
import { timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import type { Catalog } from '../catalog/catalog.js';
import { httpError } from '../http-errors.js';
import type { Access } from '../openapi/route-table.js';
import { hashToken } from '../tokens.js';
import type { AppEnv, Principal } from './app-env.js';

export const ADMIN_TOKEN_SETTING = 'admin_token_hash';

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function authenticate(catalog: Catalog, header: string | undefined): Promise<Principal> {
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  if (!match) throw httpError('UNAUTHORIZED', 'authorization: a bearer token is required');
  const hash = hashToken(match[1]!);
  const adminHash = await catalog.getSetting(ADMIN_TOKEN_SETTING);
  if (adminHash && sameHash(adminHash, hash)) return { kind: 'admin' };
  const token = await catalog.findTokenByHash(hash);
  if (!token) throw httpError('UNAUTHORIZED', 'authorization: unknown token');
  if (token.revokedAt) throw httpError('UNAUTHORIZED', `authorization: token ${token.id} was revoked`);
  return { kind: 'publisher', namespace: token.namespace, tokenId: token.id };
}

/** Sets `principal` on the context or throws 401/403. */
export function createAuthorizer(catalog: Catalog) {
  return async (c: Context<AppEnv>, access: Access): Promise<void> => {
    const principal = await authenticate(catalog, c.req.header('authorization'));
    c.set('principal', principal);
    if (principal.kind === 'admin' || access === 'token') return;
    if (access === 'admin') throw httpError('FORBIDDEN', 'authorization: this needs the admin token');
    const ns = c.req.param('ns');
    if (principal.namespace !== ns) {
      throw httpError(
        'FORBIDDEN',
        `authorization: token is scoped to namespace ${principal.namespace}, not ${ns}`,
      );
    }
  };
}
