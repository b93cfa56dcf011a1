// Signed JSON documents (the registry index, operator policies): the package machinery with its own payload type.
import type { SerializedBundle } from '@sigstore/bundle';
import { errorMessage, TrustError } from '../errors.js';
import { quote, verifyBundlePayload } from './bundle-verifier.js';
import { signPayload } from './key-signer.js';
import type { SigningKey } from './keys.js';
import type { TrustedKey } from './trust-policy.js';

export interface VerifiedDocument {
  document: unknown;
  keyId: string;
}

/** Signs `document` as JSON under `payloadType` (e.g. INDEX_PAYLOAD_TYPE, POLICY_PAYLOAD_TYPE). */
export async function signDocument(
  payloadType: string,
  document: object,
  key: SigningKey,
): Promise<SerializedBundle> {
  const context = `sign ${payloadType} document`;
  if (payloadType.length === 0)
    throw new TrustError('PAYLOAD_TYPE_INVALID', `${context}: empty payload type`);
  let json: string | undefined;
  try {
    json = JSON.stringify(document);
  } catch (err) {
    throw new TrustError('DOCUMENT_INVALID', `${context}: not serialisable as JSON: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  if (typeof document !== 'object' || document === null || json === undefined) {
    throw new TrustError('DOCUMENT_INVALID', `${context}: expected a JSON object or array`);
  }
  return signPayload(payloadType, Buffer.from(json), key);
}

/**
 * Verifies a document bundle: exactly `payloadType`, signed by one of `trustedKeys` inside its validity window at
 * `now`. Returns the parsed document for the caller's schema check (serial, expiry, …).
 */
export async function verifyDocument(
  bundle: unknown,
  payloadType: string,
  trustedKeys: readonly TrustedKey[],
  now: Date = new Date(),
): Promise<VerifiedDocument> {
  const context = `verify ${payloadType} document`;
  const resolve = (keyId: string): TrustedKey => {
    const key = trustedKeys.find((k) => k.keyId === keyId);
    if (key) return key;
    throw new TrustError(
      'KEY_UNKNOWN',
      `${context}: key ${quote(keyId)} is not one of the ${trustedKeys.length} trusted keys`,
    );
  };
  const { keyId, payload } = verifyBundlePayload(bundle, payloadType, resolve, now, context);
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (err) {
    throw new TrustError('DOCUMENT_INVALID', `${context}: payload is not UTF-8 JSON`, { cause: err });
  }
  if (typeof document !== 'object' || document === null) {
    throw new TrustError('DOCUMENT_INVALID', `${context}: payload is JSON but not an object or array`);
  }
  return { document, keyId };
}
