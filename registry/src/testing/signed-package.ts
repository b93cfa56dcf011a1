// Builds real test packages: a valid manifest, an object file, a deterministic archive and its signed bundle.
import { randomBytes } from 'node:crypto';
import { packArchive } from '@bpfleet/sdk/archive';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { writeBpfObject } from '@bpfleet/sdk/elf';
import { exampleManifestJson, manifestDigest, parseManifest } from '@bpfleet/sdk/manifest';
import { type SerializedBundle, type SigningKey, signPackage } from '@bpfleet/sdk/trust';

export interface SignedPackage {
  archive: Buffer;
  bundle: SerializedBundle;
  digest: string;
  manifestDigest: string;
}

export interface PackageOptions {
  /** What the manifest says (defaults to the published name/version). */
  manifestName?: string;
  manifestVersion?: string;
  objectBytes?: number;
}

export async function buildSignedPackage(
  name: string,
  version: string,
  key: SigningKey,
  options: PackageOptions = {},
): Promise<SignedPackage> {
  const manifest = Buffer.from(
    exampleManifestJson({ name: options.manifestName ?? name, version: options.manifestVersion ?? version }),
  );
  // A real BPF object holding exactly the manifest's programs (the edge checks them); random padding keeps
  // digests unique and sizes as asked.
  const programs = parseManifest(manifest).programs.map((p) => ({ name: p.name, section: 'xdp' }));
  const object = writeBpfObject(programs, { padding: randomBytes(options.objectBytes ?? 4096) });
  const archive = await packArchive([
    { path: 'manifest.json', data: manifest },
    { path: 'bpf/any/xdp_firewall.bpf.o', data: object },
  ]);
  const digest = sha256Digest(archive);
  const bundle = await signPackage({ name, version, digest, manifestDigest: manifestDigest(manifest) }, key);
  return { archive, bundle, digest, manifestDigest: manifestDigest(manifest) };
}

/** The request init for PUT …/versions/:version (archive body, bundle header). */
export function publishInit(
  pkg: { archive: Uint8Array; bundle: unknown },
  token?: string,
): RequestInit & { token?: string } {
  return {
    method: 'PUT',
    token,
    body: pkg.archive,
    headers: {
      'content-type': 'application/gzip',
      'bpfleet-bundle': Buffer.from(JSON.stringify(pkg.bundle)).toString('base64'),
    },
  };
}
