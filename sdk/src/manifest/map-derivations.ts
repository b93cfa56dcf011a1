// Built-in map derivations: a map the agent recomputes from a policy-managed one, and the order it writes it in.
import type { DerivationKind, FieldLayout, MapLayout } from './types.js';

/** One map entry as the kernel holds it: key and value bytes in the layout's encoding. */
export interface EncodedEntry {
  key: Uint8Array;
  value: Uint8Array;
}

/**
 * Writes to a derived map around a rewrite of its source: `before` runs before the source changes, `after`
 * once the source holds its new entries. Each list runs in order.
 */
export interface DerivedWrites {
  before: EncodedEntry[];
  after: EncodedEntry[];
}

export interface DerivedWritePlan {
  kind: DerivationKind;
  /** Source keys as the map holds them now, and as it will once written. */
  sourceBefore: readonly Uint8Array[];
  sourceAfter: readonly Uint8Array[];
  /** The derived map's current value for a key (undefined: absent). */
  current: (key: Uint8Array) => Uint8Array | undefined;
}

/** xdp-firewall's blocklist_v4_slash16: entries 0-255 are /16 bitmaps, 256 is the control entry. */
export const SLASH16 = { control: 256, entries: 257, bytes: 32 } as const;

const SLASH16_SOURCE_KEY = { prefixlen: 'u32', addr: 'ipv4' } as const;

function sameLayout(a: FieldLayout, b: FieldLayout): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Why `derived` cannot be derived from `source` by `kind`, or undefined when the layouts fit. */
export function derivationLayoutProblem(
  kind: DerivationKind,
  source: MapLayout,
  derived: MapLayout,
): { side: 'from' | 'layout'; message: string } | undefined {
  switch (kind) {
    case 'ipv4-slash16-bitmap':
      if (!sameLayout(source.key, SLASH16_SOURCE_KEY)) {
        return {
          side: 'from',
          message: `${kind} needs a source keyed by an IPv4 LPM prefix ${JSON.stringify(SLASH16_SOURCE_KEY)}, got ${JSON.stringify(source.key)}`,
        };
      }
      if (
        !sameLayout(derived.key, 'u32') ||
        !sameLayout(derived.value, { type: 'bytes', size: SLASH16.bytes })
      ) {
        return {
          side: 'layout',
          message: `${kind} writes u32 → ${SLASH16.bytes} bytes ({"key":"u32","value":{"type":"bytes","size":${SLASH16.bytes}}}), got ${JSON.stringify(derived)}`,
        };
      }
      return undefined;
  }
}

function u32Key(n: number): Uint8Array {
  const key = Buffer.alloc(4);
  key.writeUInt32LE(n);
  return key;
}

/**
 * The slash16 prefilter for a set of LPM keys (`{prefixlen: u32 LE, addr: 4 bytes}`), all 257 entries:
 * entry a has bit b (byte b / 8, bit b % 8) set when a prefix of length ≥ 16 lies in a.b.0.0/16; the control
 * entry's byte 0 is 1 (maintained) and byte 1 is 1 when some prefix is shorter than /16.
 */
export function deriveSlash16(keys: readonly Uint8Array[]): EncodedEntry[] {
  const bitmaps = Array.from({ length: SLASH16.entries }, () => Buffer.alloc(SLASH16.bytes));
  const control = bitmaps[SLASH16.control] as Buffer;
  control[0] = 1;
  for (const key of keys) {
    const view = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
    const prefixlen = view.readUInt32LE(0);
    if (prefixlen < 16) {
      control[1] = 1;
      continue;
    }
    const a = view[4] ?? 0;
    const b = view[5] ?? 0;
    const bitmap = bitmaps[a] as Buffer;
    bitmap[b >> 3] = (bitmap[b >> 3] ?? 0) | (1 << (b & 7));
  }
  return bitmaps.map((value, i) => ({ key: u32Key(i), value }));
}

function differs(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a === undefined || Buffer.compare(a, b) !== 0;
}

/**
 * The prefilter rules of xdp-firewall's README, in write order. A maintained map (control byte 0 = 1) never
 * leaves the fast path: bits for the union of old and new prefixes first, then the source rewrite, then the
 * bits of /16s with no prefix left are cleared and the control written last. A map nobody maintained yet is
 * a bulk rewrite: control byte 0 cleared first (every packet walks the trie meanwhile), bitmaps written
 * after the source, control byte 0 set last.
 */
export function planDerivedWrites(plan: DerivedWritePlan): DerivedWrites {
  switch (plan.kind) {
    case 'ipv4-slash16-bitmap': {
      const changed = (entries: EncodedEntry[]) =>
        entries.filter((e) => differs(plan.current(e.key), e.value));
      const controlKey = u32Key(SLASH16.control);
      const current = plan.current(controlKey);
      const final = deriveSlash16(plan.sourceAfter);
      const controlLast = (entries: EncodedEntry[]) => {
        const control = entries.find((e) => Buffer.from(e.key).readUInt32LE(0) === SLASH16.control);
        return control ? [...entries.filter((e) => e !== control), control] : entries;
      };
      if (current?.[0] === 1) {
        const union = deriveSlash16([...plan.sourceBefore, ...plan.sourceAfter]);
        const before = controlLast(changed(union));
        const afterUnion = new Map(union.map((e) => [Buffer.from(e.key).readUInt32LE(0), e.value]));
        const after = controlLast(
          final.filter((e) => differs(afterUnion.get(Buffer.from(e.key).readUInt32LE(0)), e.value)),
        );
        return { before, after };
      }
      const before: EncodedEntry[] = [];
      if (current !== undefined && current[0] !== 0) {
        const cleared = Buffer.from(current);
        cleared[0] = 0;
        before.push({ key: controlKey, value: cleared });
      }
      const cleared = (key: Uint8Array) =>
        before.find((e) => Buffer.compare(e.key, key) === 0)?.value ?? plan.current(key);
      return {
        before,
        after: controlLast(final.filter((e) => differs(cleared(e.key), e.value))),
      };
    }
  }
}
