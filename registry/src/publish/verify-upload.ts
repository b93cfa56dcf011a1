// Everything checked before a publish becomes visible: archive limits, manifest name/version, programs, the signed bundle.
import { type ArchiveLimits, objectArch, type PackageContents, unpackArchive } from '@bpfleet/sdk/archive';
import { readProgramNames } from '@bpfleet/sdk/elf';
import { ArchiveError, BpfleetError, ManifestError, RegistryError } from '@bpfleet/sdk/errors';
import { assertMetricConventions, checkObjectPrograms } from '@bpfleet/sdk/manifest';
import { verifyPackage } from '@bpfleet/sdk/trust';
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
  archiveLimits?: Partial<ArchiveLimits>;
}

export interface VerifiedUpload {
  manifestBytes: Buffer;
  manifestDigest: string;
  description: string;
  license: string;
  keyId: string;
}

/** Throws ArchiveError, TrustError or RegistryError (all 400s but ARCHIVE_TOO_LARGE) with the precise reason. */
export async function verifyUpload(upload: UploadToVerify): Promise<VerifiedUpload> {
  const pkg = `${upload.namespace}/${upload.name}`;
  const context = `publish ${pkg}@${upload.version}`;
  // Read back from staging: the bytes checked are the bytes that will be committed.
  const contents = await unpackArchive(upload.staged.read(), upload.archiveLimits ?? {}, { context });
  if (contents.archiveDigest !== upload.staged.digest) {
    throw new RegistryError(
      'STAGING_CORRUPT',
      `${context}: staged bytes changed (${contents.archiveDigest})`,
    );
  }
  const { manifest } = contents;
  if (manifest.name !== pkg) {
    throw new RegistryError('NAME_MISMATCH', `${context}: the manifest names ${manifest.name}`);
  }
  if (manifest.version !== upload.version) {
    throw new RegistryError('VERSION_MISMATCH', `${context}: the manifest says version ${manifest.version}`);
  }
  if (upload.publisherKeys.length === 0) {
    throw new RegistryError(
      'NO_PUBLISHER_KEYS',
      `${context}: namespace ${upload.namespace} has no publisher keys`,
    );
  }
  checkProgramSets(contents, context);
  try {
    assertMetricConventions(manifest.maps, manifest.globals);
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err;
    throw new ArchiveError('MANIFEST_INVALID', `${context}: ${err.message}`, { cause: err });
  }
  const trusted = upload.publisherKeys.map((k) => ({ keyId: k.keyId, publicKeyPem: k.publicKeyPem }));
  const verified = await verifyPackage(
    upload.bundle,
    {
      name: pkg,
      version: upload.version,
      digest: upload.staged.digest,
      manifestDigest: contents.manifestDigest,
    },
    { publishers: { [upload.namespace]: trusted } },
    upload.now,
  );
  return {
    manifestBytes: contents.manifestBytes,
    manifestDigest: contents.manifestDigest,
    description: manifest.description ?? '',
    license: manifest.license,
    keyId: verified.keyId,
  };
}

/**
 * The manifest is the contract: each object's programs (read from its ELF symbols, no libbpf on the edge) must
 * all be listed. PROGRAM_UNDECLARED / PROGRAM_MISSING are ManifestErrors (400); an unreadable object is too.
 */
function checkProgramSets(contents: PackageContents, context: string): void {
  for (const [path, bytes] of contents.files) {
    if (objectArch(path) === undefined) continue;
    let names: string[];
    try {
      names = readProgramNames(bytes, path);
    } catch (err) {
      const why = err instanceof BpfleetError ? err.message : String(err);
      throw new ArchiveError('OBJECT_INVALID', `${context}: ${path} is not a BPF object: ${why}`, {
        cause: err,
      });
    }
    checkObjectPrograms(contents.manifest, names, `${context}: ${path}`);
  }
}
