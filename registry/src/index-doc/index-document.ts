// The signed index: every package's versions (digest, size, yanked), its channels, a serial and an expiry.
import type { IndexPackage } from '../catalog/catalog.js';

export const INDEX_SCHEMA = 'bpfleet.index/v1';

export interface IndexVersionEntry {
  digest: string;
  size: number;
  manifestDigest: string;
  yanked: boolean;
}

export interface IndexDocument {
  schema: typeof INDEX_SCHEMA;
  /** Grows with every signing, across restarts: an agent refuses an index older than one it has seen. */
  serial: number;
  issuedAt: string;
  /** After this the agent treats the index as frozen (a freeze attack) and refuses it. */
  expires: string;
  /** The namespace this index covers, or null for the whole registry. */
  namespace: string | null;
  registryKeyId: string;
  packages: Record<string, { versions: Record<string, IndexVersionEntry>; channels: Record<string, string> }>;
}

export function buildIndexDocument(
  packages: IndexPackage[],
  meta: Pick<IndexDocument, 'serial' | 'issuedAt' | 'expires' | 'namespace' | 'registryKeyId'>,
): IndexDocument {
  const out: IndexDocument['packages'] = {};
  for (const pkg of packages) {
    const versions: Record<string, IndexVersionEntry> = {};
    for (const v of pkg.versions) {
      versions[v.version] = {
        digest: v.digest,
        size: v.size,
        manifestDigest: v.manifestDigest,
        yanked: v.yanked,
      };
    }
    out[`${pkg.namespace}/${pkg.name}`] = { versions, channels: pkg.channels };
  }
  return { schema: INDEX_SCHEMA, ...meta, packages: out };
}
