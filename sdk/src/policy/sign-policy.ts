// Signing, co-signing and verifying policies: the trust machinery's signed documents with the policy payload type.
import type { SerializedBundle } from '@sigstore/bundle';
import { PolicyError, TrustError } from '../errors.js';
import { signDocument, verifyDocument } from '../trust/document-signature.js';
import type { SigningKey } from '../trust/keys.js';
import { cosignDocument, verifyThreshold } from '../trust/multi-signature.js';
import { POLICY_PAYLOAD_TYPE } from '../trust/payload-types.js';
import type { TrustedKey } from '../trust/trust-policy.js';
import { toPolicy } from './parse-policy.js';
import type { Policy } from './policy.js';

export interface VerifiedPolicySigners {
  policy: Policy;
  /** Distinct trusted key ids whose signatures verified. */
  signers: string[];
}

/** Validates, then signs with an operator key. */
export async function signPolicy(policy: Policy, key: SigningKey): Promise<SerializedBundle> {
  return signDocument(POLICY_PAYLOAD_TYPE, toPolicy(policy), key);
}

/**
 * Adds one more operator's signature to a signed policy (k of n). The payload is read and validated first, so
 * nobody co-signs something that is not a policy; `readPolicyPayload` shows what is being co-signed.
 */
export async function cosignPolicy(bundle: unknown, key: SigningKey): Promise<SerializedBundle> {
  readPolicyPayload(bundle);
  return cosignDocument(bundle, POLICY_PAYLOAD_TYPE, key);
}

/** The policy inside a bundle and the key ids that say they signed it, unverified: for display before signing. */
export function readPolicyPayload(bundle: unknown): { policy: Policy; keyIds: string[] } {
  const envelope = (bundle as { dsseEnvelope?: { payload?: unknown; signatures?: unknown } } | null)
    ?.dsseEnvelope;
  if (typeof envelope?.payload !== 'string' || !Array.isArray(envelope.signatures)) {
    throw new PolicyError('POLICY_MALFORMED', 'signed policy: not a Sigstore bundle with a DSSE envelope');
  }
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
  } catch (err) {
    throw new PolicyError('POLICY_MALFORMED', 'signed policy: payload is not JSON', { cause: err });
  }
  const keyIds = envelope.signatures.map((s) => String((s as { keyid?: unknown })?.keyid ?? ''));
  return { policy: toPolicy(document), keyIds };
}

/**
 * Checks that at least `threshold` distinct operator keys (each inside its validity window) signed the policy,
 * then the schema and the expiry. Serial and target are the receiver's checks: only it knows the last serial
 * applied and who it is. A one-signature bundle at threshold 1 is checked exactly as before k of n existed.
 */
export async function verifyPolicySigners(
  input: unknown,
  operatorKeys: readonly TrustedKey[],
  threshold: number,
  now: Date = new Date(),
): Promise<VerifiedPolicySigners> {
  const bundle = toBundleValue(input);
  const single =
    threshold === 1 &&
    (bundle as { dsseEnvelope?: { signatures?: unknown[] } } | null)?.dsseEnvelope?.signatures?.length === 1;
  const { document, signers } = single
    ? await verifyDocument(bundle, POLICY_PAYLOAD_TYPE, operatorKeys, now).then((v) => ({
        document: v.document,
        signers: [v.keyId],
      }))
    : await verifyThreshold(bundle, POLICY_PAYLOAD_TYPE, operatorKeys, threshold, now);
  const policy = toPolicy(document);
  if (Date.parse(policy.expires) <= now.getTime()) {
    const target =
      'device' in policy.target ? `device ${policy.target.device}` : `group ${policy.target.group}`;
    throw new PolicyError(
      'POLICY_EXPIRED',
      `policy serial ${policy.serial} for ${target}: expired at ${policy.expires}, it is ${now.toISOString()}`,
    );
  }
  return { policy, signers };
}

/** A bundle as JSON text or bytes (an MQTT payload, an HTTP body) decoded once, so every check sees the value. */
export function toBundleValue(input: unknown): unknown {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) return input;
  try {
    return JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
  } catch (err) {
    throw new TrustError('BUNDLE_INVALID', 'verify policy: bundle is not JSON', { cause: err });
  }
}

/** One operator key suffices (threshold 1); see verifyPolicySigners. */
export async function verifyPolicy(
  bundle: unknown,
  operatorKeys: readonly TrustedKey[],
  now: Date = new Date(),
): Promise<Policy> {
  return (await verifyPolicySigners(bundle, operatorKeys, 1, now)).policy;
}
