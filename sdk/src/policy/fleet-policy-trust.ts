// Who may sign a device's policies: k of n operator keys, or the edge key within the operators' grants.
import { PolicyError, TrustError } from '../errors.js';
import { verifyThreshold } from '../trust/multi-signature.js';
import { POLICY_PAYLOAD_TYPE } from '../trust/payload-types.js';
import type { TrustedKey } from '../trust/trust-policy.js';
import { assertWithinGrants } from './edge-bound.js';
import { toPolicy } from './parse-policy.js';
import type { Policy } from './policy.js';
import { toBundleValue, verifyPolicySigners } from './sign-policy.js';

export interface PolicyTrust {
  operatorKeys: readonly TrustedKey[];
  /** Distinct operator signatures a policy needs (k of n). */
  operatorThreshold: number;
  /** Edge policy keys: they sign rollout waves, and only what a grant of the operators allows. */
  edgeKeys: readonly TrustedKey[];
}

export interface TrustedPolicy {
  policy: Policy;
  signers: string[];
  authority: 'operators' | 'edge';
}

/**
 * Verifies a policy bundle for a receiver (`groups`: the device's groups; absent at the edge). The operators'
 * threshold first; a bundle signed by an edge key instead must carry grants that allow every program it names.
 */
export async function verifyTrustedPolicy(
  input: unknown,
  trust: PolicyTrust,
  now: Date,
  groups?: readonly string[],
): Promise<TrustedPolicy> {
  const bundle = toBundleValue(input);
  try {
    const verified = await verifyPolicySigners(bundle, trust.operatorKeys, trust.operatorThreshold, now);
    return { ...verified, authority: 'operators' };
  } catch (err) {
    if (!(err instanceof TrustError) || !signedByEdge(bundle, trust.edgeKeys)) throw err;
  }
  const { document, signers } = await verifyThreshold(bundle, POLICY_PAYLOAD_TYPE, trust.edgeKeys, 1, now);
  const policy = toPolicy(document);
  if (Date.parse(policy.expires) <= now.getTime()) {
    throw new PolicyError('POLICY_EXPIRED', `policy serial ${policy.serial}: expired at ${policy.expires}`);
  }
  const grants: Policy[] = [];
  for (const [i, grant] of (policy.grants ?? []).entries()) {
    try {
      grants.push(
        (await verifyPolicySigners(grant, trust.operatorKeys, trust.operatorThreshold, now)).policy,
      );
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new PolicyError(
        'POLICY_NOT_ALLOWED',
        `policy serial ${policy.serial} (signed by the edge key): grant ${i} is not a valid operator policy: ${reason}`,
        { cause: err },
      );
    }
  }
  assertWithinGrants(policy, grants, groups);
  return { policy, signers, authority: 'edge' };
}

function signedByEdge(bundle: unknown, edgeKeys: readonly TrustedKey[]): boolean {
  const signatures = (bundle as { dsseEnvelope?: { signatures?: unknown } } | null)?.dsseEnvelope?.signatures;
  if (!Array.isArray(signatures)) return false;
  return signatures.some((s) => edgeKeys.some((k) => k.keyId === (s as { keyid?: unknown })?.keyid));
}
