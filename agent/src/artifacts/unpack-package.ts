// The verifier's Unpack over the sdk archive reader (bounded, streaming): manifest, its digest and the files.
import { unpackArchive } from '@bpfleet/sdk/archive';
import type { Unpack } from './package-verifier.js';

export const unpackPackage: Unpack = async (archive) => {
  const contents = await unpackArchive(archive, {}, { context: 'unpack package' });
  return {
    manifest: contents.manifest,
    manifestDigest: contents.manifestDigest,
    name: contents.manifest.name,
    version: contents.manifest.version,
    contents,
  };
};
