// Plans a policy against the fleet as it is: the targeted devices from the store, the packages from the catalog.
import { parseManifest } from '@bpfleet/sdk/manifest';
import type { Policy } from '@bpfleet/sdk/policy';
import type { Catalog } from '../../catalog/catalog.js';
import type { FleetStore } from '../fleet-store.js';
import { newestCandidate } from './catalog-policy-validator.js';
import { planTarget, type ResolvedEntry, type TargetPlan } from './target-plan.js';

export type TargetPlanner = (policy: Policy) => Promise<TargetPlan>;

export function createTargetPlanner(catalog: Catalog, store: FleetStore): TargetPlanner {
  return async (policy) => {
    const entries: ResolvedEntry[] = [];
    for (const [i, entry] of policy.programs.entries()) {
      const newest = await newestCandidate(catalog, entry, `programs[${i}]`);
      if (newest) {
        const manifest = parseManifest(newest.manifest);
        entries.push({ id: entry.id, package: entry.package, version: newest.version, manifest });
      }
    }
    const target = policy.target;
    const devices =
      'device' in target
        ? [store.getDevice(target.device)].filter((d) => d !== undefined)
        : store.listDevices({ group: target.group });
    return planTarget(policy, devices, entries);
  };
}
