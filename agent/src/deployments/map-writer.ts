// Writes a policy's map entries into live maps as a difference (no empty window), derived maps recomputed around it.
import type { BpfMap } from '@bpfleet/sdk/bpf';
import { BpfError } from '@bpfleet/sdk/errors';
import {
  type EncodedEntry,
  layoutSize,
  type Manifest,
  type MapDecl,
  planDerivedWrites,
} from '@bpfleet/sdk/manifest';
import type { EncodedMaps } from '@bpfleet/sdk/policy';

export type WritableMap = Pick<
  BpfMap,
  'info' | 'perCpu' | 'valueBufferSize' | 'entries' | 'update' | 'delete'
>;

const ARRAYS = new Set(['array', 'percpu_array']);
const hex = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

/** A per-CPU map takes one copy of the value per possible CPU, each in an 8-byte aligned slot. */
function kernelValue(map: WritableMap, value: Uint8Array): Uint8Array {
  if (!map.perCpu) return value;
  const out = Buffer.alloc(map.valueBufferSize);
  const stride = Math.ceil(map.info.valueSize / 8) * 8;
  for (let off = 0; off < out.length; off += stride) out.set(value, off);
  return out;
}

function checkShape(where: string, name: string, decl: MapDecl, map: WritableMap): void {
  const layout = decl.layout;
  if (!layout) throw new BpfError('LAYOUT_MISMATCH', `${where}: map ${name} has no layout in the manifest`);
  const key = layoutSize(layout.key);
  const value = layoutSize(layout.value);
  if (key !== map.info.keySize || value !== map.info.valueSize) {
    throw new BpfError(
      'LAYOUT_MISMATCH',
      `${where}: map ${name}: the manifest layout is ${key} → ${value} bytes, the object's map ${map.info.keySize} → ${map.info.valueSize}`,
    );
  }
}

/** Checks the kernel would take every entry, so that a refused list changes nothing. */
function checkEntries(where: string, name: string, map: WritableMap, entries: EncodedEntry[]): void {
  const { type, keySize, maxEntries } = map.info;
  if (entries.length > maxEntries) {
    throw new BpfError(
      'MAP_TOO_MANY_ENTRIES',
      `${where}: maps.${name}: ${entries.length} entries, the map holds at most ${maxEntries}`,
    );
  }
  entries.forEach((e, i) => {
    const view = Buffer.from(e.key.buffer, e.key.byteOffset, e.key.byteLength);
    if (type === 'lpm_trie' && view.readUInt32LE(0) > (keySize - 4) * 8) {
      throw new BpfError(
        'MAP_ENTRY_INVALID',
        `${where}: maps.${name}[${i}].key: prefix length ${view.readUInt32LE(0)} is longer than the ${(keySize - 4) * 8}-bit address`,
      );
    }
    if (ARRAYS.has(type) && view.readUInt32LE(0) >= maxEntries) {
      throw new BpfError(
        'MAP_ENTRY_INVALID',
        `${where}: maps.${name}[${i}].key: index ${view.readUInt32LE(0)} is past the array's ${maxEntries} entries`,
      );
    }
  });
}

interface SourcePlan {
  name: string;
  map: WritableMap;
  current: Map<string, EncodedEntry>;
  wanted: EncodedEntry[];
}

/** Upserts, then deletes; when the map could overflow, first the deletes that make the room the adds need. */
function rewrite({ map, current, wanted }: SourcePlan): void {
  const wantedKeys = new Set(wanted.map((e) => hex(e.key)));
  const stale = [...current.values()].filter((e) => !wantedKeys.has(hex(e.key)));
  const changed = wanted.filter((e) => {
    const now = current.get(hex(e.key));
    return !now || Buffer.compare(now.value, kernelValue(map, e.value)) !== 0;
  });
  if (ARRAYS.has(map.info.type)) {
    // Array entries always exist: an entry the policy drops goes back to zero.
    const zero = Buffer.alloc(map.info.valueSize);
    for (const e of changed) map.update(e.key, kernelValue(map, e.value));
    for (const e of stale) if (e.value.some((b) => b !== 0)) map.update(e.key, kernelValue(map, zero));
    return;
  }
  const adds = changed.filter((e) => !current.has(hex(e.key)));
  for (const e of changed) if (current.has(hex(e.key))) map.update(e.key, kernelValue(map, e.value));
  const early = Math.max(0, adds.length - (map.info.maxEntries - current.size));
  for (const e of stale.slice(0, early)) map.delete(e.key);
  for (const e of adds) map.update(e.key, kernelValue(map, e.value));
  for (const e of stale.slice(early)) map.delete(e.key);
}

function entriesOf(map: WritableMap): Map<string, EncodedEntry> {
  return new Map(map.entries().map(([key, value]) => [hex(key), { key, value }]));
}

/**
 * Makes each policy-managed map hold exactly its list and recomputes the maps derived from it, in the
 * order the derivation needs. Layouts, counts and keys are all checked before the first write. Returns
 * the entry count per policy-managed map.
 */
export function writePolicyMaps(
  where: string,
  manifest: Manifest,
  mapOf: (name: string) => WritableMap | undefined,
  encoded: EncodedMaps,
): Record<string, number> {
  const decls = manifest.maps ?? {};
  const need = (name: string): WritableMap => {
    const map = mapOf(name);
    if (!map) throw new BpfError('MAP_MISSING', `${where}: the object has no map ${name}`);
    return map;
  };
  const sources: SourcePlan[] = Object.entries(encoded).map(([name, wanted]) => {
    const decl = decls[name];
    if (decl?.entries !== 'policy')
      throw new BpfError('MAP_NOT_POLICY_MANAGED', `${where}: map ${name} is not policy-managed`);
    const map = need(name);
    checkShape(where, name, decl, map);
    checkEntries(where, name, map, wanted);
    return { name, map, current: entriesOf(map), wanted };
  });
  const derived = Object.entries(decls).flatMap(([name, decl]) => {
    const source = decl.derive ? sources.find((s) => s.name === decl.derive?.from) : undefined;
    if (!decl.derive || !source) return [];
    const map = need(name);
    checkShape(where, name, decl, map);
    const current = entriesOf(map);
    const writes = planDerivedWrites({
      kind: decl.derive.kind,
      sourceBefore: [...source.current.values()].map((e) => e.key),
      sourceAfter: source.wanted.map((e) => e.key),
      current: (key) => current.get(hex(key))?.value,
    });
    return [{ map, writes }];
  });
  for (const { map, writes } of derived)
    for (const e of writes.before) map.update(e.key, kernelValue(map, e.value));
  for (const source of sources) rewrite(source);
  for (const { map, writes } of derived)
    for (const e of writes.after) map.update(e.key, kernelValue(map, e.value));
  return Object.fromEntries(sources.map((s) => [s.name, s.wanted.length]));
}
