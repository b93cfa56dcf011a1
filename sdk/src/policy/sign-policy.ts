// Signing and verifying policies: the trust machinery's signed documents with the policy payload type.
import type { SerializedBundle } from '@sigstore/bundle';
import { PolicyError } from '../errors.js';
import { signDocument, verifyDocument } from '../trust/document-signature.js';
import type { SigningKey } from '../trust/keys.js';
import { POLICY_PAYLOAD_TYPE } from '../trust/payload-types.js';
import type { TrustedKey } from '../trust/trust-policy.js';
import { toPolicy } from './parse-policy.js';
import type { Policy } from './policy.js';

/** Validates, then signs with an operator key. */
export async function signPolicy(policy: Policy, key: SigningKey): Promise<SerializedBundle> {
  return signDocument(POLICY_PAYLOAD_TYPE, toPolicy(policy), key);
}

/**
 * Checks the signature (an operator key, inside its validity window), the schema and the expiry. Serial and
 * target are the receiver's checks: only it knows the last serial applied and who it is.
 */
export async function verifyPolicy(
  bundle: unknown,
  operatorKeys: readonly TrustedKey[],
  now: Date = new Date(),
): Promise<Policy> {
  const { document } = await verifyDocument(bundle, POLICY_PAYLOAD_TYPE, operatorKeys, now);
  const policy = toPolicy(document);
  if (Date.parse(policy.expires) <= now.getTime()) {
    const target =
      'device' in policy.target ? `device ${policy.target.device}` : `group ${policy.target.group}`;
    throw new PolicyError(
      'POLICY_EXPIRED',
      `policy serial ${policy.serial} for ${target}: expired at ${policy.expires}, it is ${now.toISOString()}`,
    );
  }
  return policy;
}
