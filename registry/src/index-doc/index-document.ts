// The signed index: every package's versions (digest, size, yanked), channels, publisher statements, serial, expiry.
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
  packages: Record<string, IndexPackageEntry>;
}

export interface IndexPackageEntry {
  versions: Record<string, IndexVersionEntry>;
  channels: Record<string, string>;
  /** The publisher's signed channel moves and yanks (Sigstore bundles): the device trusts these, not `channels`. */
  statements: unknown[];
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
    const statements = pkg.statements.map((body) => JSON.parse(body) as unknown);
    out[`${pkg.namespace}/${pkg.name}`] = { versions, channels: pkg.channels, statements };
  }
  return { schema: INDEX_SCHEMA, ...meta, packages: out };
}
