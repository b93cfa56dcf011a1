// Documents signed by several keys (roots, k-of-n policies): one DSSE envelope with several signatures over one PAE.
import { sign } from 'node:crypto';
import type { SerializedBundle } from '@sigstore/bundle';
import { errorMessage, TrustError } from '../errors.js';
import { quote, verifyBundlePayload } from './bundle-verifier.js';
import type { SigningKey } from './keys.js';
import type { TrustedKey } from './trust-policy.js';

// The carrier: a Sigstore bundle v0.3 whose DSSE envelope holds n signatures (DSSE allows several; @sigstore/bundle
// accepts exactly one). Each signature is checked as the one-signature bundle it would be alone, so every check of
// verifyDocument (strict shape, payload type, keyid = hint, key window, @sigstore/verify) applies to each signer.
const MAX_SIGNATURES = 32;

export interface ThresholdResult {
  document: unknown;
  /** Distinct trusted key ids whose signature verified, in envelope order. */
  signers: string[];
}

/** Adds `key`'s signature to a document bundle (from signDocument or an earlier cosign); the payload is unchanged. */
export async function cosignDocument(
  bundle: unknown,
  payloadType: string,
  key: SigningKey,
): Promise<SerializedBundle> {
  const context = `cosign ${payloadType} document with key ${key.keyId}`;
  const raw = toRaw(bundle, context);
  const envelope = envelopeOf(raw, payloadType, context);
  if (envelope.signatures.some((s) => s.keyid === key.keyId)) {
    throw new TrustError('ALREADY_SIGNED', `${context}: this key already signed the document`);
  }
  if (envelope.signatures.length >= MAX_SIGNATURES) {
    throw new TrustError('TOO_MANY_SIGNATURES', `${context}: already ${MAX_SIGNATURES} signatures`);
  }
  const payload = Buffer.from(envelope.payload, 'base64');
  let sig: Buffer;
  try {
    sig = sign('sha256', preAuthEncoding(payloadType, payload), key.privateKey);
  } catch (err) {
    throw new TrustError('SIGNING_FAILED', `${context}: ${errorMessage(err)}`, { cause: err });
  }
  const signatures = [...envelope.signatures, { sig: sig.toString('base64'), keyid: key.keyId }];
  return { ...raw, dsseEnvelope: { ...envelope, signatures } } as unknown as SerializedBundle;
}

/**
 * Verifies that at least `threshold` distinct keys of `keys` signed the document, each inside its validity window
 * at `now`. Signatures by other keys, invalid ones and repeats are not counted (and do not fail the check).
 */
export async function verifyThreshold(
  bundle: unknown,
  payloadType: string,
  keys: readonly TrustedKey[],
  threshold: number,
  now: Date,
): Promise<ThresholdResult> {
  const context = `verify ${payloadType} document (threshold ${threshold})`;
  if (!Number.isInteger(threshold) || threshold < 1) {
    throw new TrustError('THRESHOLD_INVALID', `${context}: the threshold must be an integer ≥ 1`);
  }
  const raw = toRaw(bundle, context);
  const envelope = envelopeOf(raw, payloadType, context);
  if (envelope.signatures.length === 0 || envelope.signatures.length > MAX_SIGNATURES) {
    throw new TrustError(
      'BUNDLE_INVALID',
      `${context}: the envelope holds ${envelope.signatures.length} signatures, expected 1 to ${MAX_SIGNATURES}`,
    );
  }
  const signers: string[] = [];
  const refused: string[] = [];
  let payload: Buffer | undefined;
  for (const signature of envelope.signatures) {
    const keyId = signature.keyid;
    if (signers.includes(keyId)) continue;
    const trusted = keys.find((k) => k.keyId === keyId);
    if (!trusted) continue;
    const single = {
      ...raw,
      verificationMaterial: {
        ...(raw.verificationMaterial as object),
        publicKey: { hint: keyId },
      },
      dsseEnvelope: { ...envelope, signatures: [signature] },
    };
    try {
      const verified = verifyBundlePayload(single, payloadType, () => trusted, now, context);
      payload = verified.payload;
      signers.push(keyId);
    } catch (err) {
      if (!(err instanceof TrustError)) throw err;
      refused.push(`${keyId} (${err.code})`);
    }
  }
  if (signers.length < threshold || payload === undefined) {
    const signed = signers.length > 0 ? signers.join(', ') : 'none';
    const bad = refused.length > 0 ? `; not counted: ${refused.join(', ')}` : '';
    throw new TrustError(
      'THRESHOLD_NOT_MET',
      `${context}: ${signers.length} of the needed ${threshold} trusted signatures (have ${signers.length}, need ${threshold}); signed by: ${signed}${bad}`,
    );
  }
  return { document: parseDocument(payload, context), signers };
}

// DSSE v1 pre-authentication encoding (the bytes each signature covers); @sigstore/core keeps its copy internal.
function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  const head = `DSSEv1 ${type.length} ${payloadType} ${payload.length} `;
  return Buffer.concat([Buffer.from(head, 'utf8'), payload]);
}

interface RawEnvelope {
  payload: string;
  payloadType: string;
  signatures: { sig: string; keyid: string }[];
}

function toRaw(bundle: unknown, context: string): Record<string, unknown> {
  let value = bundle;
  if (typeof bundle === 'string' || bundle instanceof Uint8Array) {
    try {
      value = JSON.parse(typeof bundle === 'string' ? bundle : Buffer.from(bundle).toString('utf8'));
    } catch (err) {
      throw new TrustError('BUNDLE_INVALID', `${context}: bundle is not JSON`, { cause: err });
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TrustError('BUNDLE_INVALID', `${context}: bundle is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function envelopeOf(raw: Record<string, unknown>, payloadType: string, context: string): RawEnvelope {
  const envelope = raw.dsseEnvelope as Partial<RawEnvelope> | undefined;
  if (typeof envelope !== 'object' || envelope === null || !Array.isArray(envelope.signatures)) {
    throw new TrustError('BUNDLE_INVALID', `${context}: bundle has no DSSE envelope with signatures`);
  }
  if (envelope.payloadType !== payloadType) {
    throw new TrustError(
      'PAYLOAD_TYPE_MISMATCH',
      `${context}: payload type is ${quote(envelope.payloadType)}, expected ${quote(payloadType)}`,
    );
  }
  if (typeof envelope.payload !== 'string') {
    throw new TrustError('BUNDLE_INVALID', `${context}: dsseEnvelope.payload is not a string`);
  }
  for (const [i, s] of envelope.signatures.entries()) {
    const ok =
      typeof s === 'object' && s !== null && typeof s.sig === 'string' && typeof s.keyid === 'string';
    if (!ok) throw new TrustError('BUNDLE_INVALID', `${context}: dsseEnvelope.signatures[${i}] is malformed`);
  }
  return envelope as RawEnvelope;
}

function parseDocument(payload: Buffer, context: string): unknown {
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (err) {
    throw new TrustError('DOCUMENT_INVALID', `${context}: payload is not UTF-8 JSON`, { cause: err });
  }
  if (typeof document !== 'object' || document === null) {
    throw new TrustError('DOCUMENT_INVALID', `${context}: payload is JSON but not an object or array`);
  }
  return document;
}
