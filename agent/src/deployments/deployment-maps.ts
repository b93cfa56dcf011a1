// A deployment's maps: the policy's entries written, state maps reused across versions, every declared map pinned.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BpfMap, Collection } from '@bpfleet/sdk/bpf';
import type { Manifest } from '@bpfleet/sdk/manifest';
import type { DeploySpec } from '../ports.js';
import { writePolicyMaps } from './map-writer.js';

const DATA_SECTIONS = ['.bss', '.data'];

/** Entries written per policy-managed map; undefined when the spec gives no maps (they are left as they are). */
export function writeSpecMaps(
  spec: DeploySpec,
  manifest: Manifest,
  mapOf: (name: string) => BpfMap | undefined,
): Record<string, number> | undefined {
  if (!spec.maps) return undefined;
  const where = `deploy ${spec.id} ${manifest.name}@${manifest.version}`;
  return writePolicyMaps(where, manifest, mapOf, spec.maps);
}

/** Pin paths of the maps a deployment persisted (its state), to load the next version with. */
export function persistedMaps(
  mapsDir: string,
  manifest: Manifest,
  upgrading: boolean,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, decl] of Object.entries(manifest.maps ?? {})) {
    const path = join(mapsDir, name);
    if (decl.persist && !(upgrading && decl.resetOnUpgrade) && existsSync(path)) out[name] = path;
  }
  return out;
}

/** Pins every declared map (metrics are read through pins, also after a restart); drops pins of maps gone. */
export function pinMaps(mapsDir: string, manifest: Manifest, collection: Collection): void {
  const sections = manifest.globals ? dataSections(collection) : new Map<string, BpfMap>();
  const declared = [...Object.keys(manifest.maps ?? {}), ...sections.keys()];
  for (const name of existsSync(mapsDir) ? readdirSync(mapsDir) : []) {
    if (!declared.includes(name)) rmSync(join(mapsDir, name), { force: true });
  }
  for (const name of declared) {
    const map = collection.maps.get(name);
    if (!map) continue;
    const path = join(mapsDir, name);
    if (existsSync(path)) rmSync(path);
    map.pin(path);
  }
  // Globals are read from their section's map by its BTF; pinned as `__bss`/`__data` (bpffs refuses dots in names,
  // and no declared map may start with __).
  for (const [pin, map] of sections) {
    const path = join(mapsDir, pin);
    if (existsSync(path)) rmSync(path);
    map.pin(path);
  }
}

/** The writable data sections' maps (`<obj>.bss`, `<obj>.data`) by their pin name (`__bss`, `__data`). */
function dataSections(collection: Collection): Map<string, BpfMap> {
  const out = new Map<string, BpfMap>();
  for (const [name, map] of collection.maps) {
    const section = name.slice(name.indexOf('.'));
    if (name.includes('.') && DATA_SECTIONS.includes(section)) out.set(`__${section.slice(1)}`, map);
  }
  return out;
}
