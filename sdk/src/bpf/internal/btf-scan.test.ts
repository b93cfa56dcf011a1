// Tests: the tracepoint typedef found in raw BTF is the one bpftool names, however the bytes arrive.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { type BtfRead, findTypedefWithPrefix } from './btf-scan.js';

function reader(bytes: Uint8Array): BtfRead & { calls: number } {
  const read = Object.assign(
    (offset: number, length: number) => {
      read.calls++;
      return bytes.subarray(offset, offset + length);
    },
    { calls: 0 },
  );
  return read;
}

/** A little-endian BTF blob: types as [name, info, sizeOrType, ...trailer words], strings joined by NULs. */
function blob(types: number[][], strings: string[]): Uint8Array {
  const typeWords = types.flat();
  const str = Buffer.from(`\0${strings.join('\0')}\0`);
  const out = Buffer.alloc(24 + typeWords.length * 4 + str.length);
  out.writeUInt16LE(0xeb9f, 0);
  out[2] = 1;
  out.writeUInt32LE(24, 4);
  out.writeUInt32LE(0, 8);
  out.writeUInt32LE(typeWords.length * 4, 12);
  out.writeUInt32LE(typeWords.length * 4, 16);
  out.writeUInt32LE(str.length, 20);
  for (const [i, w] of typeWords.entries()) out.writeUInt32LE(w >>> 0, 24 + i * 4);
  str.copy(out, 24 + typeWords.length * 4);
  return out;
}

test('the first btf_trace_ typedef of the running kernel is the one bpftool lists first', () => {
  const dump = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'raw'], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  const m = /^\[(\d+)\] TYPEDEF '(btf_trace_[^']+)'/m.exec(dump);
  assert.ok(m, 'bpftool lists a btf_trace_ typedef');
  const bytes = readFileSync('/sys/kernel/btf/vmlinux');
  const whole = reader(bytes);
  assert.deepEqual(findTypedefWithPrefix(whole, 'btf_trace_'), { id: Number(m[1]), name: m[2] });
  assert.ok(whole.calls < 20, `read in ${whole.calls} calls, not the whole file`);
  // Odd-sized reads split names and type records at many places: same answer.
  assert.deepEqual(findTypedefWithPrefix(reader(bytes), 'btf_trace_', 4093), {
    id: Number(m[1]),
    name: m[2],
  });
});

test('types before the typedef are skipped by their kind-specific sizes; a name on another kind is not taken', () => {
  const INT = 1 << 24;
  const STRUCT = (4 << 24) | 2;
  const TYPEDEF = 8 << 24;
  const FUNC = 12 << 24;
  // Strings: 1 "int", 5 "pair", 10 "a", 12 "b", 14 "btf_trace_x" (a FUNC's name here), 26 "btf_trace_y".
  const strings = ['int', 'pair', 'a', 'b', 'btf_trace_x', 'btf_trace_y'];
  const types = [
    [1, INT, 4, 32],
    [5, STRUCT, 8, 10, 1, 0, 12, 1, 32],
    [14, FUNC, 0],
    [26, TYPEDEF, 2],
  ];
  // The first btf_trace_ string names a FUNC, so no typedef matches it: nothing is claimed.
  assert.equal(findTypedefWithPrefix(reader(blob(types, strings)), 'btf_trace_'), undefined);
  const typedefFirst = [
    [1, INT, 4, 32],
    [5, STRUCT, 8, 10, 1, 0, 12, 1, 32],
    [14, TYPEDEF, 2],
  ];
  assert.deepEqual(findTypedefWithPrefix(reader(blob(typedefFirst, strings)), 'btf_trace_', 5), {
    id: 3,
    name: 'btf_trace_x',
  });
  assert.equal(findTypedefWithPrefix(reader(new Uint8Array(10)), 'btf_trace_'), undefined);
});
