// Keeps one signed index per scope: re-signed when the catalog changed or half its lifetime has passed.
import type { Catalog } from '../catalog/catalog.js';
import type { Clock } from '../clock.js';
import type { RegistryKeys } from '../keys.js';
import type { Logger } from '../logger.js';
import { buildIndexDocument } from './index-document.js';

export interface SignedIndex {
  serial: number;
  expires: Date;
  /** The Sigstore bundle (DSSE envelope around the index document), serialized. */
  body: string;
  etag: string;
}

export interface IndexSignerOptions {
  catalog: Catalog;
  keys: RegistryKeys;
  clock: Clock;
  logger: Logger;
  ttlMs: number;
  payloadType: string;
}

interface CacheEntry {
  changes: number;
  refreshAt: number;
  index: SignedIndex;
}

export interface IndexSigner {
  /** The current signed index of the whole registry (no namespace) or of one namespace. */
  get(namespace?: string): Promise<SignedIndex>;
}

export function createIndexSigner(options: IndexSignerOptions): IndexSigner {
  const { catalog, keys, clock, ttlMs } = options;
  const cache = new Map<string, CacheEntry>();
  const inflight = new Map<string, Promise<SignedIndex>>();

  async function sign(scope: string, namespace: string | undefined, changes: number): Promise<SignedIndex> {
    const packages = await catalog.indexPackages(namespace);
    const serial = await catalog.nextIndexSerial();
    const now = clock.now();
    const expires = new Date(now.getTime() + ttlMs);
    const document = buildIndexDocument(packages, {
      serial,
      issuedAt: now.toISOString(),
      expires: expires.toISOString(),
      namespace: namespace ?? null,
      registryKeyId: keys.keyId,
    });
    const bundle = await keys.sign(options.payloadType, document);
    const index: SignedIndex = {
      serial,
      expires,
      body: JSON.stringify(bundle),
      etag: `"index-${namespace ?? '*'}-${serial}"`,
    };
    cache.set(scope, { changes, refreshAt: now.getTime() + ttlMs / 2, index });
    options.logger.info('index signed', {
      namespace: namespace ?? null,
      serial,
      expires: index.expires.toISOString(),
    });
    return index;
  }

  return {
    async get(namespace) {
      const scope = namespace ?? '*';
      const changes = await catalog.changeCounter();
      const cached = cache.get(scope);
      if (cached && cached.changes === changes && clock.now().getTime() < cached.refreshAt)
        return cached.index;
      // Concurrent requests share one signing, so a burst does not burn a burst of serials.
      let pending = inflight.get(scope);
      if (!pending) {
        pending = sign(scope, namespace, changes).finally(() => inflight.delete(scope));
        inflight.set(scope, pending);
      }
      return pending;
    },
  };
}
