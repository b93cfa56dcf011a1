// Puts a version straight into storage (bypassing publish) for tests of the read side.
import { sha256Digest } from '@bpfleet/sdk/digest';
import type { VersionRecord } from '../catalog/catalog.js';
import type { RegistryFixture } from './registry-fixture.js';

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

export async function seedVersion(
  fx: RegistryFixture,
  ns: string,
  name: string,
  version: string,
  bytes: Uint8Array,
): Promise<VersionRecord> {
  const staged = await fx.blobs.stage(once(bytes), { maxBytes: bytes.length });
  await staged.commit();
  const manifest = JSON.stringify({ name: `${ns}/${name}`, version });
  const record: VersionRecord = {
    namespace: ns,
    name,
    version,
    digest: staged.digest,
    size: staged.size,
    manifestDigest: sha256Digest(manifest),
    manifest,
    bundle: JSON.stringify({ mediaType: 'test' }),
    description: `${name} for tests`,
    license: 'GPL-2.0',
    publishedAt: fx.clock.now().toISOString(),
    yanked: false,
    yankReason: null,
  };
  await fx.catalog.insertVersion(record);
  return record;
}
