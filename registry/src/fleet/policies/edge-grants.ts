// The operators' policies behind an edge-signed one: the signed bundles it carries as grants, checked before signing.
import { assertWithinGrants, type Policy, type PolicyTarget, readPolicyPayload } from '@bpfleet/sdk/policy';
import type { PolicyStore, StoredPolicy } from './policy-store.js';

const sameTarget = (a: PolicyTarget, b: PolicyTarget) =>
  'device' in a ? 'device' in b && a.device === b.device : 'group' in b && a.group === b.group;

/** The operator bundles a stored policy stands on: itself when operator-signed, else the grants it carried. */
function authority(stored: StoredPolicy | undefined): unknown[] {
  if (!stored) return [];
  return stored.policy.grants ?? [JSON.parse(stored.bundle) as unknown];
}

/**
 * Grants for an edge-signed policy for `target`: the operator policy of `group` (the rollout's group) and, for a
 * device, the operator policy it had of its own (kept through earlier edge-signed ones), so that a restore can
 * give it back.
 */
export function grantsFor(store: PolicyStore, target: PolicyTarget, group: string): unknown[] {
  const groupTarget = { group };
  const pick = (stored: StoredPolicy | undefined, of: PolicyTarget) =>
    authority(stored).filter((g) => sameTarget(readPolicyPayload(g).policy.target, of));
  const grants = pick(store.get(groupTarget), groupTarget);
  if ('device' in target) grants.push(...pick(store.get(target), target));
  return grants;
}

/** The edge predicts the device's check (POLICY_NOT_ALLOWED) so that a rollout fails here, not on every device. */
export function boundedByGrants(draft: Policy, grants: unknown[]): Policy {
  const granted = grants.map((g) => readPolicyPayload(g).policy);
  if (granted.length === 0) assertWithinGrants(draft, granted); // throws: nothing authorizes it
  const latest = Math.min(Date.parse(draft.expires), Math.max(...granted.map((g) => Date.parse(g.expires))));
  const policy: Policy = { ...draft, expires: new Date(latest).toISOString(), grants };
  assertWithinGrants(policy, granted);
  return policy;
}
