// Merges a device's own policy with its groups' policies into one list of wanted programs.

import type { Policy, PolicyProgram } from './policy.js';
import { type PolicyExpired, policyExpired } from './policy-expiry.js';

export interface MergedProgram extends PolicyProgram {
  /** Where the entry came from: `device:<id>` or `group:<name>`. */
  source: string;
  /** Its policy expired (onExpiry keep): what runs for it stays, nothing new or changed is deployed for it. */
  expired?: PolicyExpired;
}

/**
 * Precedence: an entry of the device policy overrides any group entry with the same id; among groups, the
 * group listed first (the device's configured group order) wins. Entries are whole: fields never mix across
 * policies, so one operator decision is always applied as written: a device entry's `maps` (like its `config`)
 * replace the group entry's as a whole, and a map the winning entry does not list is empty.
 *
 * With `now`, expiry counts: an expired `onExpiry: remove` policy is as if absent (a group entry may then win);
 * an expired `keep` policy keeps its place, its entries marked `expired`, so an expired device entry still
 * shadows the group's: what the operator last said for this device stays in force, frozen.
 */
export function mergePolicies(
  device: Policy | undefined,
  groups: Array<Policy | undefined>,
  now?: Date,
): MergedProgram[] {
  const merged = new Map<string, MergedProgram>();
  const ordered = [device, ...groups];
  for (const policy of ordered) {
    if (!policy) continue;
    const expired = now && policyExpired(policy, now);
    if (expired && policy.onExpiry === 'remove') continue;
    const source =
      'device' in policy.target ? `device:${policy.target.device}` : `group:${policy.target.group}`;
    for (const program of policy.programs) {
      if (!merged.has(program.id))
        merged.set(program.id, { ...program, source, ...(expired && { expired }) });
    }
  }
  // Code-point order: localeCompare would page in ICU's collation data (2 MB of a device agent's RSS).
  return [...merged.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
