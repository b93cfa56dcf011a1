// The slash16 prefilter against a brute-force reference, and its write plan replayed step by step.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { reliabilityRuns } from '../testing/reliability-runs.js';
import { deriveSlash16, type EncodedEntry, planDerivedWrites, SLASH16 } from './map-derivations.js';

const RUNS = reliabilityRuns(200, 5_000);

interface Prefix {
  addr: number;
  len: number;
}

function lpmKey({ addr, len }: Prefix): Uint8Array {
  const key = Buffer.alloc(8);
  key.writeUInt32LE(len, 0);
  key.writeUInt32BE(addr >>> 0, 4);
  return key;
}

const prefix = fc.record({
  addr: fc.integer({ min: 0, max: 0xffffffff }),
  len: fc.integer({ min: 0, max: 32 }),
});
// Clustered prefixes so that /16s are shared, emptied and refilled between two sets.
const clustered = fc.record({
  addr: fc
    .tuple(fc.constantFrom(10, 198, 203), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 0xffff }))
    .map(([a, b, rest]) => ((a << 24) | (b << 16) | rest) >>> 0),
  len: fc.constantFrom(8, 15, 16, 20, 24, 32),
});
const prefixes = fc.array(fc.oneof(prefix, clustered), { maxLength: 40 });

/** The rule restated on 32-bit numbers: bit a.b is set iff a prefix of length ≥ 16 lies in a.b.0.0/16. */
function reference(list: Prefix[]): { bits: Set<number>; short: boolean } {
  const bits = new Set<number>();
  for (const p of list) if (p.len >= 16) bits.add(p.addr >>> 16);
  return { bits, short: list.some((p) => p.len < 16) };
}

function bitSet(entries: Map<number, Uint8Array>, slash16: number): boolean {
  const bitmap = entries.get(slash16 >>> 8);
  return (((bitmap?.[(slash16 & 0xff) >> 3] ?? 0) >> (slash16 & 7)) & 1) === 1;
}

function asMap(entries: EncodedEntry[]): Map<number, Uint8Array> {
  return new Map(entries.map((e) => [Buffer.from(e.key).readUInt32LE(0), e.value]));
}

test('deriveSlash16 sets exactly the /16s of prefixes of length ≥ 16, and flags shorter ones', () => {
  fc.assert(
    fc.property(prefixes, (list) => {
      const derived = asMap(deriveSlash16(list.map(lpmKey)));
      assert.equal(derived.size, SLASH16.entries);
      const want = reference(list);
      for (let slash16 = 0; slash16 < 65536; slash16++) {
        if (bitSet(derived, slash16) !== want.bits.has(slash16))
          assert.fail(`/16 ${slash16 >> 8}.${slash16 & 255}`);
      }
      const control = derived.get(SLASH16.control);
      assert.equal(control?.[0], 1);
      assert.equal(control?.[1], want.short ? 1 : 0);
      assert.ok(control?.subarray(2).every((b) => b === 0));
    }),
    { numRuns: RUNS },
  );
  // The README's example: 198.51.100.0/24 is bit 3 of byte 6 of entry 198.
  const one = asMap(deriveSlash16([lpmKey({ addr: 0xc6336400, len: 24 })]));
  assert.equal(one.get(198)?.[6], 1 << 3);
});

/** Kernel state replayed write by write: the prefilter must never hide a prefix the trie holds. */
function checkEnforced(trie: Map<string, Prefix>, bitmap: Map<number, Uint8Array>, step: string): void {
  const control = bitmap.get(SLASH16.control) ?? Buffer.alloc(32);
  if (control[0] !== 1 || control[1] !== 0) return; // every packet walks the trie
  for (const p of trie.values()) {
    assert.ok(
      p.len >= 16,
      `${step}: a /${p.len} is in the trie while the control says none is shorter than /16`,
    );
    assert.ok(bitSet(bitmap, p.addr >>> 16), `${step}: ${p.addr >>> 16} unset while the trie holds it`);
  }
}

test('the write plan keeps every prefix enforced at each step and ends at the derived state', () => {
  const start = fc.constantFrom('fresh', 'maintained', 'not-maintained', 'stale-bits');
  fc.assert(
    fc.property(prefixes, prefixes, start, (before, after, how) => {
      const dedupe = (list: Prefix[]) => new Map(list.map((p) => [`${p.addr}/${p.len}`, p]));
      const trie = dedupe(before);
      const bitmap = new Map<number, Uint8Array>();
      for (let i = 0; i < SLASH16.entries; i++) bitmap.set(i, Buffer.alloc(32));
      if (how === 'maintained')
        for (const [k, v] of asMap(deriveSlash16([...trie.values()].map(lpmKey)))) bitmap.set(k, v);
      if (how === 'not-maintained') bitmap.set(SLASH16.control, Buffer.from([2, 1, ...Buffer.alloc(30)]));
      if (how === 'stale-bits') {
        // Maintained by someone who missed a prefix and left a bit of an empty /16: both get repaired.
        for (const [k, v] of asMap(deriveSlash16([...trie.values()].slice(1).map(lpmKey)))) bitmap.set(k, v);
        (bitmap.get(7) as Buffer)[0] = 0xff;
      }
      const plan = planDerivedWrites({
        kind: 'ipv4-slash16-bitmap',
        sourceBefore: [...trie.values()].map(lpmKey),
        sourceAfter: [...dedupe(after).values()].map(lpmKey),
        current: (key) => bitmap.get(Buffer.from(key).readUInt32LE(0)),
      });
      const write = (e: EncodedEntry) => bitmap.set(Buffer.from(e.key).readUInt32LE(0), e.value);
      // "before" writes run on the old trie; a stale state may start unenforced, but not after them.
      for (const [i, e] of plan.before.entries()) {
        write(e);
        if (how !== 'stale-bits' || i === plan.before.length - 1) checkEnforced(trie, bitmap, `before[${i}]`);
      }
      // The source rewrite: upserts first, then deletes.
      const target = dedupe(after);
      for (const [k, p] of target) {
        trie.set(k, p);
        checkEnforced(trie, bitmap, `upsert ${k}`);
      }
      for (const k of [...trie.keys()]) {
        if (!target.has(k)) trie.delete(k);
        checkEnforced(trie, bitmap, `delete ${k}`);
      }
      for (const [i, e] of plan.after.entries()) {
        write(e);
        checkEnforced(trie, bitmap, `after[${i}]`);
      }
      const final = asMap(deriveSlash16([...target.values()].map(lpmKey)));
      for (const [k, v] of final)
        assert.deepEqual(Buffer.from(bitmap.get(k) ?? []), Buffer.from(v), `entry ${k}`);
      for (const phase of [plan.before, plan.after]) {
        const at = phase.findIndex((e) => Buffer.from(e.key).readUInt32LE(0) === SLASH16.control);
        assert.ok(at === -1 || at === phase.length - 1, 'the control is written last');
      }
    }),
    { numRuns: RUNS },
  );
});

test('a maintained map never clears byte 0; an unmaintained one clears it first and sets it last', () => {
  const key = lpmKey({ addr: 0xc6336400, len: 24 });
  const maintained = new Map(asMap(deriveSlash16([])));
  const plan = planDerivedWrites({
    kind: 'ipv4-slash16-bitmap',
    sourceBefore: [],
    sourceAfter: [key],
    current: (k) => maintained.get(Buffer.from(k).readUInt32LE(0)),
  });
  assert.deepEqual(
    plan.before.map((e) => Buffer.from(e.key).readUInt32LE(0)),
    [198],
  );
  assert.deepEqual(plan.after, []);
  const legacy = Buffer.from([2, 0, ...Buffer.alloc(30)]);
  const bulk = planDerivedWrites({
    kind: 'ipv4-slash16-bitmap',
    sourceBefore: [],
    sourceAfter: [key],
    current: (k) => (Buffer.from(k).readUInt32LE(0) === SLASH16.control ? legacy : Buffer.alloc(32)),
  });
  assert.deepEqual(
    bulk.before.map((e) => [Buffer.from(e.key).readUInt32LE(0), e.value[0]]),
    [[256, 0]],
  );
  assert.deepEqual(
    bulk.after.map((e) => [Buffer.from(e.key).readUInt32LE(0), e.value[0]]),
    [
      [198, 0],
      [256, 1],
    ],
  );
});
