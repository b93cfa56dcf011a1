// Package signatures: an in-toto Statement v1 (subject = `ns/name@version` + archive sha256, predicate = manifest
// digest) in a DSSE bundle, verified against the publisher keys the trust policy gives the package's namespace.
import type { SerializedBundle } from '@sigstore/bundle';
import semver from 'semver';
import { digestHex, isDigest } from '../digest.js';
import { TrustError } from '../errors.js';
import { type KeyResolver, quote, verifyBundlePayload } from './bundle-verifier.js';
import { signPayload } from './key-signer.js';
import type { SigningKey } from './keys.js';
import { type PackageStatement, parsePackageStatement } from './package-statement.js';
import { IN_TOTO_STATEMENT_TYPE, PACKAGE_PAYLOAD_TYPE, PACKAGE_PREDICATE_TYPE } from './payload-types.js';
import { keysForNamespace, NAMESPACE_PATTERN, type TrustPolicy } from './trust-policy.js';

/** What a publisher signs: `name` is `namespace/name`, digests are `sha256:<hex>`. */
export interface PackageSubject {
  name: string;
  version: string;
  digest: string;
  manifestDigest: string;
}

/** What a verifier expects; the manifest digest is checked when given. */
export interface ExpectedPackage {
  name: string;
  version: string;
  digest: string;
  manifestDigest?: string;
}

export interface VerifiedPackage {
  keyId: string;
  statement: PackageStatement;
}

export function toPackageStatement(subject: PackageSubject): PackageStatement {
  const context = `sign ${subject.name}@${subject.version}`;
  assertPackageRef(subject, context);
  if (!isDigest(subject.manifestDigest)) {
    throw new TrustError(
      'SUBJECT_INVALID',
      `${context}: manifest digest ${quote(subject.manifestDigest)} is not sha256:<hex>`,
    );
  }
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [{ name: `${subject.name}@${subject.version}`, digest: { sha256: digestHex(subject.digest) } }],
    predicateType: PACKAGE_PREDICATE_TYPE,
    predicate: { manifestDigest: subject.manifestDigest, name: subject.name, version: subject.version },
  };
}

export async function signPackage(subject: PackageSubject, key: SigningKey): Promise<SerializedBundle> {
  const statement = toPackageStatement(subject);
  return signPayload(PACKAGE_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), key);
}

/**
 * Verifies a package bundle: signature by a key the policy trusts for the package's namespace, inside its
 * validity window at `now`, over a statement naming exactly this package, archive digest and manifest digest.
 */
export async function verifyPackage(
  bundle: unknown,
  expected: ExpectedPackage,
  policy: TrustPolicy,
  now: Date = new Date(),
): Promise<VerifiedPackage> {
  const context = `verify ${expected.name}@${expected.version}`;
  const namespace = assertPackageRef(expected, context);
  const resolve = namespaceKeyResolver(policy, namespace, context);
  const { keyId, payload } = verifyBundlePayload(bundle, PACKAGE_PAYLOAD_TYPE, resolve, now, context);
  const statement = parsePackageStatement(payload, context);
  const [subject] = statement.subject;
  const wantedName = `${expected.name}@${expected.version}`;
  if (subject.name !== wantedName) {
    throw new TrustError(
      'SUBJECT_MISMATCH',
      `${context}: statement is about ${quote(subject.name)}, expected ${quote(wantedName)}`,
    );
  }
  const { predicate } = statement;
  if (predicate.name !== expected.name || predicate.version !== expected.version) {
    throw new TrustError(
      'SUBJECT_MISMATCH',
      `${context}: predicate names ${quote(`${predicate.name}@${predicate.version}`)}, expected ${quote(wantedName)}`,
    );
  }
  const signedDigest = `sha256:${subject.digest.sha256}`;
  if (signedDigest !== expected.digest) {
    throw new TrustError(
      'DIGEST_MISMATCH',
      `${context}: digest mismatch: expected ${expected.digest}, signed ${signedDigest}`,
    );
  }
  if (expected.manifestDigest !== undefined && predicate.manifestDigest !== expected.manifestDigest) {
    throw new TrustError(
      'MANIFEST_DIGEST_MISMATCH',
      `${context}: manifest digest mismatch: expected ${expected.manifestDigest}, signed ${predicate.manifestDigest}`,
    );
  }
  return { keyId, statement };
}

function namespaceKeyResolver(policy: TrustPolicy, namespace: string, context: string): KeyResolver {
  return (keyId) => {
    const key = keysForNamespace(policy, namespace).find((k) => k.keyId === keyId);
    if (key) return key;
    const elsewhere = Object.keys(policy.publishers).filter((ns) =>
      keysForNamespace(policy, ns).some((k) => k.keyId === keyId),
    );
    if (elsewhere.length > 0) {
      throw new TrustError(
        'KEY_NOT_TRUSTED_FOR_NAMESPACE',
        `${context}: key ${keyId} is trusted for ${elsewhere.join(', ')}, not for namespace ${namespace}`,
      );
    }
    throw new TrustError('KEY_UNKNOWN', `${context}: key ${quote(keyId)} is not in the trust policy`);
  };
}

/** Checks name (`ns/name`), version (semver) and digest; returns the namespace. */
function assertPackageRef(ref: { name: string; version: string; digest: string }, context: string): string {
  const parts = typeof ref.name === 'string' ? ref.name.split('/') : [];
  const [namespace, name] = parts;
  if (parts.length !== 2 || !NAMESPACE_PATTERN.test(namespace ?? '') || !NAMESPACE_PATTERN.test(name ?? '')) {
    throw new TrustError(
      'SUBJECT_INVALID',
      `${context}: package name ${quote(ref.name)} is not namespace/name`,
    );
  }
  if (typeof ref.version !== 'string' || semver.valid(ref.version) !== ref.version) {
    throw new TrustError(
      'SUBJECT_INVALID',
      `${context}: version ${quote(ref.version)} is not a semver version`,
    );
  }
  if (!isDigest(ref.digest)) {
    throw new TrustError('SUBJECT_INVALID', `${context}: digest ${quote(ref.digest)} is not sha256:<hex>`);
  }
  return namespace as string;
}
