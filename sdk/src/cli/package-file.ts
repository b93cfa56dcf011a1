// Reading a package file and its bundle for the CLI commands that sign, verify and inspect.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type UnpackedPackage, unpackArchive } from '../archive/unpack-archive.js';
import { TrustError } from '../errors.js';
import type { PackageSubject } from '../trust/package-signature.js';
import { parsePackageStatement } from '../trust/package-statement.js';

export function readPackageFile(file: string, verb: string): Promise<UnpackedPackage> {
  return unpackArchive(createReadStream(file), {}, { context: `${verb} ${file}` });
}

export function subjectOf(pkg: UnpackedPackage): PackageSubject {
  return {
    name: pkg.manifest.name,
    version: pkg.manifest.version,
    digest: pkg.archiveDigest,
    manifestDigest: pkg.manifestDigest,
  };
}

/** Where `sign` writes a bundle by default and `verify` looks for it: beside the package. */
export function defaultBundlePath(packageFile: string): string {
  return `${packageFile.replace(/\.tgz$/, '')}.sigstore.json`;
}

export async function readBundleFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new TrustError('BUNDLE_UNREADABLE', `bundle ${path}: cannot read (${(err as Error).message})`, {
      cause: err,
    });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TrustError('BUNDLE_INVALID', `bundle ${path}: not JSON`, { cause: err });
  }
}

/** What a bundle says about its signer, without trusting it: `bpfleet verify` checks the signature. */
export async function describeSigner(
  bundlePath: string,
  pkg: UnpackedPackage,
): Promise<Record<string, unknown>> {
  const bundle = (await readBundleFile(bundlePath)) as {
    verificationMaterial?: { publicKey?: { hint?: string } };
    dsseEnvelope?: { payload?: string; payloadType?: string };
  };
  const payload = Buffer.from(bundle.dsseEnvelope?.payload ?? '', 'base64');
  const statement = parsePackageStatement(payload, `inspect ${bundlePath}`);
  const subject = statement.subject[0];
  return {
    keyId: bundle.verificationMaterial?.publicKey?.hint ?? null,
    payloadType: bundle.dsseEnvelope?.payloadType ?? null,
    subject: subject.name,
    digestMatches: `sha256:${subject.digest.sha256}` === pkg.archiveDigest,
    signatureChecked: false,
  };
}
