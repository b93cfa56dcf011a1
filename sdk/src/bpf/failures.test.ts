// Kernel tests: every failure path (verifier, config, map reuse, bad bytes, pins) leaves no fd or pin behind.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { BpfError, VerifierError } from '../errors.js';
import { loadCollection } from './collection.js';
import { loadCollectionSpec } from './collection-spec.js';
import { openPinnedMap, readU64, u32, u64 } from './map.js';
import { openFds, pinDir, testObject } from './testing/fixtures.js';

let pins: ReturnType<typeof pinDir>;
let fdsBefore: string[];
beforeEach(() => {
  pins = pinDir();
  fdsBefore = openFds();
});
afterEach(() => {
  pins.remove();
});

function assertNothingLeaked(): void {
  assert.deepEqual(openFds(), fdsBefore);
  assert.deepEqual(pins.entries(), []);
}

test('a program the verifier refuses yields VerifierError with a one-line message and the whole log', async () => {
  await assert.rejects(loadCollection(testObject('bad'), { pinPath: pins.path }), (err: unknown) => {
    assert.ok(err instanceof VerifierError);
    assert.equal(err.program, 'unchecked_read');
    assert.equal(err.message.includes('\n'), false);
    assert.match(err.message, /unchecked_read: verifier: .*outside of the packet/);
    assert.match(err.log, /processed \d+ insns/);
    assert.ok(err.log.split('\n').length > 3);
    return true;
  });
  assertNothingLeaked();
});

test('a log buffer too small for the verifier output grows until the whole log fits', async () => {
  await assert.rejects(
    loadCollection(testObject('bad'), { pinPath: pins.path, logSize: 64 }),
    (err: unknown) => {
      assert.ok(err instanceof VerifierError);
      assert.match(err.log, /processed \d+ insns/);
      return true;
    },
  );
  assertNothingLeaked();
});

test('unknown config names and out-of-range values are refused before anything loads', async () => {
  await assert.rejects(
    loadCollection(testObject('xdp_counter'), { config: { nope: 1 } }),
    /unknown config nope/,
  );
  await assert.rejects(
    loadCollection(testObject('xdp_counter'), { config: { verdict: 2 ** 32 } }),
    (err: unknown) => err instanceof BpfError && err.code === 'CONFIG_RANGE',
  );
  await assert.rejects(
    loadCollection(testObject('xdp_counter'), { config: { verdict: 'pass' } }),
    (err: unknown) => err instanceof BpfError && err.code === 'CONFIG_TYPE',
  );
  assertNothingLeaked();
});

test('garbage bytes are refused as an invalid object', () => {
  assert.throws(
    () => loadCollectionSpec(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3])),
    (err: unknown) => err instanceof BpfError && err.code === 'OBJECT_INVALID',
  );
  assertNothingLeaked();
});

test('reusing an incompatible map fails precisely and closes what the load opened', async () => {
  const tc = await loadCollection(testObject('tc_counter'));
  try {
    await assert.rejects(
      loadCollection(testObject('xdp_counter'), { replaceMaps: { counts: tc.map('tc_counts') } }),
      (err: unknown) =>
        err instanceof BpfError && err.code === 'MAP_INCOMPATIBLE' && /max entries 1 != 4/.test(err.message),
    );
    await assert.rejects(
      loadCollection(testObject('xdp_counter'), { replaceMaps: { counts: `${pins.path}/absent` } }),
      (err: unknown) => err instanceof BpfError && err.code === 'PIN_ENOENT',
    );
  } finally {
    tc.close();
  }
  assertNothingLeaked();
});

test('maps pinned by name are created under pinPath and reused by the next load', async () => {
  const first = await loadCollection(testObject('pinned'), { pinPath: pins.path });
  const second = await loadCollection(testObject('pinned'), { pinPath: pins.path });
  try {
    assert.deepEqual(pins.entries(), ['shared_state']);
    const a = first.map('shared_state');
    const b = second.map('shared_state');
    assert.equal(a.info.id, b.info.id);
    a.update(u32(7), u64(70));
    assert.equal(readU64(b.lookup(u32(7)) ?? new Uint8Array(8)), 70n);
  } finally {
    second.close();
    first.close();
  }
  const pinned = openPinnedMap(`${pins.path}/shared_state`);
  try {
    assert.equal(readU64(pinned.lookup(u32(7)) ?? new Uint8Array(8)), 70n);
    pinned.unpin(`${pins.path}/shared_state`);
  } finally {
    pinned.close();
  }
  assertNothingLeaked();
});

test('map operations: update, lookup, delete and batched iteration over several chunks', async () => {
  const coll = await loadCollection(testObject('pinned'), { pinPath: pins.path });
  try {
    const map = coll.map('shared_state');
    for (let i = 0; i < 600; i++) map.update(u32(i), u64(i * 3));
    const entries = map.entries();
    assert.equal(entries.length, 600);
    const seen = new Map(entries.map(([k, v]) => [new DataView(k.buffer).getUint32(0, true), readU64(v)]));
    for (let i = 0; i < 600; i++) assert.equal(seen.get(i), BigInt(i * 3));
    assert.equal(map.delete(u32(5)), true);
    assert.equal(map.delete(u32(5)), false);
    assert.equal(map.lookup(u32(5)), undefined);
    assert.equal(map.keys().length, 599);
    assert.throws(() => map.lookup(new Uint8Array(3)), /key is 3 bytes, want 4/);
    map.unpin(`${pins.path}/shared_state`);
  } finally {
    coll.close();
  }
  assertNothingLeaked();
});
