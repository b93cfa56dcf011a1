// One signed index per scope, kept in the catalog: re-signed when the catalog changed or half its lifetime passed.
// Every registry process serves the stored one, so an agent never sees the serial go back between processes.
import type { Catalog, StoredIndex } from '../catalog/catalog.js';
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

export interface IndexSigner {
  /** The current signed index of the whole registry (no namespace) or of one namespace. */
  get(namespace?: string): Promise<SignedIndex>;
}

function toSigned(stored: StoredIndex, namespace: string | undefined): SignedIndex {
  return {
    serial: stored.serial,
    expires: new Date(stored.expires),
    body: stored.body,
    etag: `"index-${namespace ?? '*'}-${stored.serial}"`,
  };
}

export function createIndexSigner(options: IndexSignerOptions): IndexSigner {
  const { catalog, keys, clock, ttlMs } = options;
  const inflight = new Map<string, Promise<StoredIndex>>();

  const isCurrent = (stored: StoredIndex | undefined, changes: number): stored is StoredIndex =>
    stored !== undefined &&
    stored.changes === changes &&
    clock.now().getTime() < new Date(stored.issuedAt).getTime() + ttlMs / 2;

  async function sign(scope: string, namespace: string | undefined, changes: number): Promise<StoredIndex> {
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
    const stored = await catalog.putSignedIndex(scope, {
      serial,
      changes,
      issuedAt: now.toISOString(),
      expires: expires.toISOString(),
      body: JSON.stringify(bundle),
    });
    if (stored.serial === serial) {
      options.logger.info('index signed', {
        namespace: namespace ?? null,
        serial,
        expires: expires.toISOString(),
      });
    }
    return stored;
  }

  return {
    async get(namespace) {
      const scope = namespace ?? '*';
      const changes = await catalog.changeCounter();
      const stored = await catalog.getSignedIndex(scope);
      if (isCurrent(stored, changes)) return toSigned(stored, namespace);
      // Concurrent requests share one signing, so a burst does not burn a burst of serials.
      let pending = inflight.get(scope);
      if (!pending) {
        pending = sign(scope, namespace, changes).finally(() => inflight.delete(scope));
        inflight.set(scope, pending);
      }
      return toSigned(await pending, namespace);
    },
  };
}
