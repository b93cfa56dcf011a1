// Digests of what a policy asks beyond the package: config values and map entries, compared with what runs.
import { sha256Digest } from '@bpfleet/sdk/digest';
import type { ConfigInput, PolicyMapEntry } from '@bpfleet/sdk/policy';

export function configDigestOf(config: Record<string, ConfigInput>): string {
  const sorted = Object.fromEntries(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return sha256Digest(JSON.stringify(sorted));
}

/** Undefined when the policy gives no entries, so deployments from before map entries compare equal. */
export function mapsDigestOf(maps: Record<string, PolicyMapEntry[]> | undefined): string | undefined {
  if (!maps || Object.keys(maps).length === 0) return undefined;
  return sha256Digest(
    JSON.stringify(
      Object.keys(maps)
        .sort()
        .map((name) => [name, maps[name]]),
    ),
  );
}
