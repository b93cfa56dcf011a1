// Nested structs, fixed arrays, char arrays and enums: C offsets, round trips, and per-CPU folding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManifestError } from '../errors.js';
import { decodeLayoutValue, encodeLayoutValue, foldPerCpu, layoutSize } from './layout-values.js';
import { fieldAt, leafFields, parseFieldLayout } from './map-layout.js';

// struct task { u32 pid; char comm[16]; struct { u8 state; u64 runs; } s; u32 slots[3]; }: offsetof() by gcc
// are 0, 4, 24 (s.state 24, s.runs 32), 40; sizeof 56.
const task = parseFieldLayout(
  {
    pid: 'u32',
    comm: { type: 'string', size: 16 },
    s: { state: { type: 'enum', of: 'u8', names: { '0': 'running', '1': 'sleeping' } }, runs: 'u64' },
    slots: { type: 'array', of: 'u32', length: 3 },
  },
  'layout',
);

test('a nested struct with a char array, an enum and an array lays out as C does', () => {
  assert.equal(layoutSize(task), 56);
  assert.deepEqual(
    leafFields(task).map((f) => `${f.name}@${f.offset}+${f.size}`),
    [
      'pid@0+4',
      'comm@4+16',
      's.state@24+1',
      's.runs@32+8',
      'slots[0]@40+4',
      'slots[1]@44+4',
      'slots[2]@48+4',
    ],
  );
  assert.equal(fieldAt(task, 's.runs')?.offset, 32);
  assert.equal(fieldAt(task, 'slots')?.size, 12);
  assert.equal(fieldAt(task, 's.nope'), undefined);
});

test('values round-trip: strings stop at NUL, enums read by name (unknown numbers as text)', () => {
  const value = {
    pid: 7,
    comm: 'sshd',
    s: { state: 'sleeping', runs: '18446744073709551615' },
    slots: [1, 2, 3],
  };
  const bytes = encodeLayoutValue(task, value, 'v');
  assert.equal(bytes.length, 56);
  assert.equal(Buffer.from(bytes.subarray(4, 9)).toString('latin1'), 'sshd\0');
  assert.deepEqual(decodeLayoutValue(task, bytes), value);
  const raw = Buffer.from(bytes);
  raw[24] = 9;
  assert.equal((decodeLayoutValue(task, raw) as { s: { state: string } }).s.state, '9');
  assert.throws(
    () => encodeLayoutValue(task, { ...value, slots: [1, 2] }, 'v'),
    (err: unknown) => err instanceof ManifestError && err.path === 'v.slots',
  );
  assert.throws(
    () => encodeLayoutValue(task, { ...value, comm: 'x'.repeat(16) }, 'v'),
    (err: unknown) => err instanceof ManifestError && err.code === 'OUT_OF_RANGE' && err.path === 'v.comm',
  );
});

test('per-CPU copies fold: integer leaves summed with the C type wrapping, others from CPU 0', () => {
  const a = encodeLayoutValue(
    task,
    { pid: 1, comm: 'a', s: { state: 1, runs: 5 }, slots: [1, 0, 4294967295] },
    'a',
  );
  const b = encodeLayoutValue(task, { pid: 2, comm: 'b', s: { state: 0, runs: 6 }, slots: [2, 3, 2] }, 'b');
  assert.deepEqual(decodeLayoutValue(task, foldPerCpu(task, [a, b])), {
    pid: 3,
    comm: 'a',
    s: { state: 'sleeping', runs: 11 },
    slots: [3, 3, 1],
  });
});

test('layouts refuse what C cannot mean: empty arrays, unknown tags, too deep', () => {
  const refuse = (layout: unknown, code: string, path: string) =>
    assert.throws(
      () => parseFieldLayout(layout, 'l'),
      (err: unknown) => err instanceof ManifestError && err.code === code && err.path === path,
    );
  refuse({ a: { type: 'array', of: 'u32', length: 0 } }, 'OUT_OF_RANGE', 'l.a.length');
  refuse({ a: { type: 'enum', of: 'ipv4', names: {} } }, 'INVALID_VALUE', 'l.a.of');
  refuse({ a: { b: { c: { d: { e: { f: 'u8' } } } } } }, 'TOO_DEEP', 'l.a.b.c.d.e');
});
