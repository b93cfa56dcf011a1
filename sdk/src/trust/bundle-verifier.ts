// Verifies a DSSE Sigstore bundle against configured public keys: @sigstore/verify for the signature, plus
// what the library leaves to callers (strict shape, payload type, envelope keyid = key hint, key windows).

import { BUNDLE_V03_MEDIA_TYPE, type Bundle, bundleFromJSON, ValidationError } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, VerificationError, Verifier } from '@sigstore/verify';
import { errorMessage, TrustError } from '../errors.js';
import { isObject } from '../is-object.js';
import { toPublicKey } from './keys.js';
import { assertKeyInWindow, type TrustedKey } from './trust-policy.js';

/** Finds the trusted key for a key hint, or throws the TrustError that says why there is none. */
export type KeyResolver = (keyId: string) => TrustedKey;

export interface VerifiedPayload {
  keyId: string;
  payload: Buffer;
}

// No transparency log, CA or timestamp authority is trusted: only the configured keys are.
const EMPTY_ROOT: Parameters<typeof toTrustMaterial>[0] = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
};
const NO_WITNESSES = { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 };

/** Checks `input` (bundle JSON value, text or bytes) and returns the signed payload; `context` starts messages. */
export function verifyBundlePayload(
  input: unknown,
  payloadType: string,
  resolveKey: KeyResolver,
  now: Date,
  context: string,
): VerifiedPayload {
  const bundle = parseBundle(input, context);
  if (bundle.content.$case !== 'dsseEnvelope') {
    throw new TrustError(
      'BUNDLE_INVALID',
      `${context}: bundle holds a message signature, expected a DSSE envelope`,
    );
  }
  if (bundle.verificationMaterial.content.$case !== 'publicKey') {
    throw new TrustError(
      'BUNDLE_INVALID',
      `${context}: bundle is signed with a certificate (keyless); only configured public keys are trusted`,
    );
  }
  const envelope = bundle.content.dsseEnvelope;
  if (envelope.payloadType !== payloadType) {
    throw new TrustError(
      'PAYLOAD_TYPE_MISMATCH',
      `${context}: payload type is ${quote(envelope.payloadType)}, expected ${quote(payloadType)}`,
    );
  }
  const hint = bundle.verificationMaterial.content.publicKey.hint;
  const keyid = envelope.signatures[0]?.keyid ?? '';
  if (keyid !== hint) {
    throw new TrustError(
      'KEYID_MISMATCH',
      `${context}: envelope signature keyid ${quote(keyid)} differs from the bundle's key hint ${quote(hint)}`,
    );
  }
  const trusted = resolveKey(hint);
  assertKeyInWindow(trusted, now, context);
  const publicKey = toPublicKey(trusted.publicKeyPem, `${context}: key ${trusted.keyId}`);
  const material = toTrustMaterial(EMPTY_ROOT, (wanted) => {
    if (wanted !== trusted.keyId)
      throw new TrustError('KEY_UNKNOWN', `${context}: key ${quote(wanted)} is not trusted`);
    return { publicKey, validFor: () => true };
  });
  try {
    new Verifier(material, NO_WITNESSES).verify(toSignedEntity(bundle));
  } catch (err) {
    if (err instanceof TrustError) throw err;
    if (err instanceof VerificationError && err.code === 'SIGNATURE_ERROR') {
      throw new TrustError(
        'SIGNATURE_INVALID',
        `${context}: signature does not verify with key ${trusted.keyId}`,
        {
          cause: err,
        },
      );
    }
    throw new TrustError('BUNDLE_INVALID', `${context}: ${errorMessage(err)}`, { cause: err });
  }
  return { keyId: trusted.keyId, payload: Buffer.from(envelope.payload) };
}

function parseBundle(input: unknown, context: string): Bundle {
  const raw = typeof input === 'string' || input instanceof Uint8Array ? parseJson(input, context) : input;
  const invalid = (message: string, cause?: unknown) =>
    new TrustError('BUNDLE_INVALID', `${context}: ${message}`, cause === undefined ? undefined : { cause });
  if (!isObject(raw)) throw invalid('bundle is not a JSON object');
  if (raw.mediaType !== BUNDLE_V03_MEDIA_TYPE) {
    throw invalid(`bundle media type is ${quote(raw.mediaType)}, expected ${quote(BUNDLE_V03_MEDIA_TYPE)}`);
  }
  // The protobuf decoder accepts lenient base64 (and even arrays); only the canonical encoding is accepted here.
  const envelope = raw.dsseEnvelope;
  if (!isObject(envelope)) throw invalid('bundle has no dsseEnvelope');
  if (!isCanonicalBase64(envelope.payload)) throw invalid('dsseEnvelope.payload is not canonical base64');
  const signatures = envelope.signatures;
  if (!Array.isArray(signatures) || signatures.length !== 1) {
    throw invalid('dsseEnvelope must hold exactly one signature');
  }
  const signature: unknown = signatures[0];
  if (!isObject(signature) || !isCanonicalBase64(signature.sig)) {
    throw invalid('dsseEnvelope.signatures[0].sig is not canonical base64');
  }
  if (typeof signature.keyid !== 'string' || typeof envelope.payloadType !== 'string') {
    throw invalid('dsseEnvelope payloadType and signatures[0].keyid must be strings');
  }
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(raw);
  } catch (err) {
    const fields = err instanceof ValidationError ? ` (${err.fields.join(', ')})` : '';
    throw invalid(`not a valid Sigstore bundle: ${errorMessage(err)}${fields}`, err);
  }
  const material = bundle.verificationMaterial;
  if (
    material.tlogEntries.length > 0 ||
    (material.timestampVerificationData?.rfc3161Timestamps.length ?? 0) > 0
  ) {
    throw invalid(
      'bundle carries transparency-log entries or timestamps; no log or timestamp authority is trusted',
    );
  }
  return bundle;
}

function parseJson(input: string | Uint8Array, context: string): unknown {
  try {
    return JSON.parse(
      typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input),
    );
  } catch (err) {
    throw new TrustError('BUNDLE_INVALID', `${context}: bundle is not JSON: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

function isCanonicalBase64(value: unknown): value is string {
  return (
    typeof value === 'string' && value.length > 0 && Buffer.from(value, 'base64').toString('base64') === value
  );
}

/** Quotes a value from the bundle for a message, cut short so garbage cannot flood logs. */
export function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
