// A policy program's map entries checked against the package manifest and encoded by the maps' layouts.
import {
  type EncodedEntry,
  encodeLayoutValue,
  type LayoutFail,
  type Manifest,
  packageId,
} from '../manifest/index.js';
import type { PolicyMapEntry } from './policy.js';
import { PolicyFieldError } from './policy-error.js';

/** Every policy-managed map of the manifest → its entries in policy order, encoded. */
export type EncodedMaps = Record<string, EncodedEntry[]>;

const fail: LayoutFail = (code, path, message) => {
  throw new PolicyFieldError(code, path, message);
};

/**
 * Each map the policy names must be declared `"entries": "policy"` by the manifest; each entry must encode
 * by the map's layout and no key may repeat. A policy-managed map the policy does not name is empty.
 * `path` is where the maps sit in the policy (`programs[0].maps`), so errors name the exact field.
 */
export function encodePolicyMaps(
  manifest: Manifest,
  maps: Record<string, PolicyMapEntry[]> | undefined,
  path = 'maps',
): EncodedMaps {
  const decls = manifest.maps ?? {};
  const managed = Object.keys(decls).filter((name) => decls[name]?.entries === 'policy');
  for (const name of Object.keys(maps ?? {})) {
    const decl = decls[name];
    const where = `${packageId(manifest)}`;
    const list = managed.length > 0 ? managed.join(', ') : 'none';
    if (!decl)
      fail('MAP_UNKNOWN', `${path}.${name}`, `${where} declares no map ${name} (policy-managed: ${list})`);
    if (decl.entries !== 'policy') {
      fail(
        'MAP_NOT_POLICY_MANAGED',
        `${path}.${name}`,
        `map ${name} of ${where} is not policy-managed (policy-managed: ${list})`,
      );
    }
  }
  const out: EncodedMaps = {};
  for (const name of managed) {
    const layout = decls[name]?.layout;
    if (!layout) continue; // the manifest parser requires a layout for policy-managed maps
    const seen = new Map<string, number>();
    out[name] = (maps?.[name] ?? []).map((entry, i) => {
      const at = `${path}.${name}[${i}]`;
      const key = encodeLayoutValue(layout.key, entry.key, `${at}.key`, fail);
      const hex = Buffer.from(key).toString('hex');
      const first = seen.get(hex);
      if (first !== undefined)
        fail('DUPLICATE_KEY', `${at}.key`, `the same key as ${path}.${name}[${first}]`);
      seen.set(hex, i);
      return { key, value: encodeLayoutValue(layout.value, entry.value, `${at}.value`, fail) };
    });
  }
  return out;
}
