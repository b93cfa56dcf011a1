// The root chain: version N+1 counts only when a threshold of N's root keys and a threshold of its own signed it.
import type { SerializedBundle } from '@sigstore/bundle';
import { TrustError } from '../errors.js';
import { signDocument } from './document-signature.js';
import type { SigningKey } from './keys.js';
import { cosignDocument, verifyThreshold } from './multi-signature.js';
import { ROOT_PAYLOAD_TYPE } from './payload-types.js';
import { parseRootDocument, type RootDocument, type ThresholdRole } from './root-document.js';

/** What a device or edge already trusts: a verified root, or the inline config standing in for version 1. */
export interface TrustedRoot {
  version: number;
  /** Absent for an inline config (provisioned, never expires). */
  expires?: string;
  roles: { root: ThresholdRole };
}

/** Signs a root with every key given (the first signs, the rest cosign). */
export async function signRoot(root: RootDocument, keys: readonly SigningKey[]): Promise<SerializedBundle> {
  const [first, ...rest] = keys;
  if (!first) throw new TrustError('KEY_REQUIRED', `sign root v${root.version}: no key given`);
  let bundle = await signDocument(ROOT_PAYLOAD_TYPE, parseRootDocument(root), first);
  for (const key of rest) bundle = await cosignDocument(bundle, ROOT_PAYLOAD_TYPE, key);
  return bundle;
}

/** Adds one signature to a root bundle (`bpfleet root sign`); the key must not have signed it yet. */
export function cosignRoot(bundle: unknown, key: SigningKey): Promise<SerializedBundle> {
  return cosignDocument(bundle, ROOT_PAYLOAD_TYPE, key);
}

/** Reads a root bundle's document without checking any signature (for showing what is about to be signed). */
export function peekRoot(bundle: unknown): RootDocument {
  const envelope = (bundle as { dsseEnvelope?: { payload?: unknown; payloadType?: unknown } } | null)
    ?.dsseEnvelope;
  if (envelope?.payloadType !== ROOT_PAYLOAD_TYPE || typeof envelope.payload !== 'string') {
    throw new TrustError('BUNDLE_INVALID', `read root: not a ${ROOT_PAYLOAD_TYPE} bundle`);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
  } catch (err) {
    throw new TrustError('ROOT_INVALID', 'read root: payload is not JSON', { cause: err });
  }
  return parseRootDocument(value);
}

/** The first root of a chain (version 1): signed by a threshold of its own root keys, not expired. */
export async function verifyFirstRoot(bundle: unknown, now: Date): Promise<RootDocument> {
  const claimed = peekRoot(bundle);
  if (claimed.version !== 1) {
    throw new TrustError(
      'ROOT_VERSION_SKIPPED',
      `verify root: the first root must be version 1, this is version ${claimed.version}`,
    );
  }
  const root = await ownSignatures(bundle, claimed, now);
  assertNotExpired(root, now);
  return root;
}

/**
 * Verifies the root after `trusted`: a threshold of `trusted`'s root keys signed it, it is exactly version
 * `trusted.version + 1` (ROOT_ROLLBACK / ROOT_VERSION_SKIPPED otherwise), a threshold of its own root keys signed it.
 * `final` (the last root of a walk) must not be expired; intermediate ones may be, as in TUF.
 */
export async function verifyNextRoot(
  trusted: TrustedRoot,
  bundle: unknown,
  now: Date,
  final = true,
): Promise<RootDocument> {
  const context = `verify root after v${trusted.version}`;
  const { root: role } = trusted.roles;
  let signedByOld: unknown;
  try {
    signedByOld = (await verifyThreshold(bundle, ROOT_PAYLOAD_TYPE, role.keys, role.threshold, now)).document;
  } catch (err) {
    throw rewrap(err, `${context}: not signed by a threshold of version ${trusted.version}'s root keys`);
  }
  const root = parseRootDocument(signedByOld, `${context}: root`);
  if (root.version <= trusted.version) {
    throw new TrustError(
      'ROOT_ROLLBACK',
      `${context}: version ${root.version} is not newer than the trusted version ${trusted.version}`,
    );
  }
  if (root.version !== trusted.version + 1) {
    throw new TrustError(
      'ROOT_VERSION_SKIPPED',
      `${context}: version ${root.version} skips version ${trusted.version + 1}; roots are accepted one version at a time`,
    );
  }
  await ownSignatures(bundle, root, now);
  if (final) assertNotExpired(root, now);
  return root;
}

async function ownSignatures(bundle: unknown, root: RootDocument, now: Date): Promise<RootDocument> {
  const { keys, threshold } = root.roles.root;
  try {
    const { document } = await verifyThreshold(bundle, ROOT_PAYLOAD_TYPE, keys, threshold, now);
    return parseRootDocument(document);
  } catch (err) {
    throw rewrap(err, `verify root v${root.version}: not signed by a threshold of its own root keys`);
  }
}

function assertNotExpired(root: RootDocument, now: Date): void {
  if (now.getTime() >= Date.parse(root.expires)) {
    throw new TrustError(
      'ROOT_EXPIRED',
      `verify root v${root.version}: expired at ${root.expires}, it is ${now.toISOString()}; sign and publish a newer root`,
    );
  }
}

function rewrap(err: unknown, context: string): unknown {
  if (!(err instanceof TrustError)) return err;
  return new TrustError(err.code, `${context}: ${err.message}`, { cause: err });
}
