// Orphan collection: blobs no version refers to (a publish that lost a race or crashed before its row) and staging leftovers.
import type { Catalog } from '../catalog/catalog.js';
import type { BlobStore } from './blob-store.js';

export interface CollectResult {
  orphans: number;
  staging: number;
}

/**
 * Deletes unreferenced blobs and staging files older than `olderThan`. Young ones are spared: a publish
 * commits its blob a moment before its row.
 */
export async function collectOrphans(
  catalog: Catalog,
  blobs: BlobStore,
  olderThan: Date,
): Promise<CollectResult> {
  const referenced = await catalog.referencedDigests();
  let orphans = 0;
  for await (const blob of blobs.list()) {
    if (referenced.has(blob.digest) || blob.modified >= olderThan) continue;
    // Re-check: a publish may have committed this digest since the snapshot above.
    if (await catalog.hasDigest(blob.digest)) continue;
    if (await blobs.delete(blob.digest)) orphans++;
  }
  const staging = await blobs.sweepStaging(olderThan);
  return { orphans, staging };
}
