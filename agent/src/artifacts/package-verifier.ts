// PackageVerifier: archive digest, publisher signature for the namespace, then the unpacked manifest's digest.
import { sha256Digest } from '@bpfleet/sdk/digest';
import { TrustError } from '@bpfleet/sdk/errors';
import { type TrustPolicy, verifyPackage } from '@bpfleet/sdk/trust';
import type { Artifact, PackageVerifier, VerifiedPackage } from '../ports.js';

/** Opens an archive (bounded) into its manifest, the manifest's digest and whatever the loader needs. */
export type Unpack = (
  archive: Uint8Array,
) => Promise<{ manifest: unknown; manifestDigest: string; name: string; version: string; contents: unknown }>;

export class SignedPackageVerifier implements PackageVerifier {
  constructor(
    private readonly trust: TrustPolicy,
    private readonly unpack: Unpack,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async verify(artifact: Artifact): Promise<VerifiedPackage> {
    const { ref } = artifact;
    const label = `verify ${ref.package}@${ref.version}`;
    const digest = sha256Digest(artifact.archive);
    if (digest !== ref.digest) {
      throw new TrustError(
        'DIGEST_MISMATCH',
        `${label}: digest mismatch: expected ${ref.digest}, got ${digest}`,
      );
    }
    const expected = { name: ref.package, version: ref.version, digest: ref.digest };
    const signed = await verifyPackage(
      artifact.bundle,
      ref.manifestDigest ? { ...expected, manifestDigest: ref.manifestDigest } : expected,
      this.trust,
      this.now(),
    );
    // Only bytes whose signature checked out are parsed.
    const unpacked = await this.unpack(artifact.archive);
    if (unpacked.manifestDigest !== signed.statement.predicate.manifestDigest) {
      throw new TrustError(
        'MANIFEST_DIGEST_MISMATCH',
        `${label}: manifest digest mismatch: signed ${signed.statement.predicate.manifestDigest}, archive has ${unpacked.manifestDigest}`,
      );
    }
    if (unpacked.name !== ref.package || unpacked.version !== ref.version) {
      throw new TrustError(
        'SUBJECT_MISMATCH',
        `${label}: the archive's manifest is ${unpacked.name}@${unpacked.version}`,
      );
    }
    return {
      ref,
      manifestDigest: unpacked.manifestDigest,
      manifest: unpacked.manifest,
      contents: unpacked.contents,
    };
  }
}
