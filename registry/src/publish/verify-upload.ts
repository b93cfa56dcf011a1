// Everything checked before a publish becomes visible: archive limits, manifest name/version, the signed bundle.
import { RegistryError } from '@bpfleet/sdk/errors';
import type { StagedBlob } from '../blobs/blob-store.js';
import type { PublisherKey } from '../catalog/catalog.js';

export interface UploadToVerify {
  namespace: string;
  name: string;
  version: string;
  staged: StagedBlob;
  bundle: unknown;
  publisherKeys: PublisherKey[];
  now: Date;
}

export interface VerifiedUpload {
  manifestBytes: Buffer;
  manifestDigest: string;
  description: string;
  license: string;
  keyId: string;
}

export async function verifyUpload(upload: UploadToVerify): Promise<VerifiedUpload> {
  throw new RegistryError(
    'NOT_READY',
    `publish ${upload.namespace}/${upload.name}@${upload.version}: package verification is not wired yet`,
  );
}
