// The Deployment a loader keeps for a spec it applied: what the reconcile loop compares and reports.
import type { Deployment, DeploySpec } from '../ports.js';

/** `mapEntries`: the entries written per policy-managed map (absent when the spec gave no maps). */
export function deploymentRecord(spec: DeploySpec, mapEntries?: Record<string, number>): Deployment {
  const ref = spec.pkg.ref;
  const deployment: Deployment = {
    id: spec.id,
    package: ref.package,
    version: ref.version,
    digest: ref.digest,
    attach: spec.attach,
    configDigest: spec.configDigest,
  };
  if (spec.mapsDigest) deployment.mapsDigest = spec.mapsDigest;
  if (mapEntries) deployment.mapEntries = mapEntries;
  return deployment;
}

/** Entries per map of the spec, for loaders that write every entry they are given (simulated, test doubles). */
export function specEntryCounts(spec: DeploySpec): Record<string, number> | undefined {
  return (
    spec.maps && Object.fromEntries(Object.entries(spec.maps).map(([map, entries]) => [map, entries.length]))
  );
}
