import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ManifestError } from '../errors.js';
import { decodeLayoutValue, encodeLayoutValue, layoutSize } from './layout-values.js';
import type { FieldLayout } from './types.js';

function expectError(fn: () => unknown, code: string, path: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ManifestError, String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.path, path, err.message);
    return true;
  });
}

test('an LPM key encodes with prefixlen little-endian and the address in network order', () => {
  const layout: FieldLayout = { prefixlen: 'u32', addr: 'ipv4' };
  const key = encodeLayoutValue(layout, { prefixlen: 24, addr: '198.51.100.0' }, 'key');
  assert.equal(Buffer.from(key).toString('hex'), '18000000c6336400');
  assert.deepEqual(decodeLayoutValue(layout, key), { prefixlen: 24, addr: '198.51.100.0' });
  const v6 = encodeLayoutValue(
    { prefixlen: 'u32', addr: 'ipv6' },
    { prefixlen: 64, addr: '2001:db8::' },
    'k',
  );
  assert.equal(Buffer.from(v6).toString('hex'), `40000000${'20010db8'}${'0'.repeat(24)}`);
});

test('structs follow C alignment with zeroed padding; scalars and bytes encode alone', () => {
  const layout: FieldLayout = { teid: 'u32', gnb: 'ipv4', session: 'u32', qfi: 'u8' };
  assert.equal(layoutSize(layout), 16);
  const value = encodeLayoutValue(layout, { teid: 1, gnb: '198.19.0.1', session: 2, qfi: 9 }, 'v');
  assert.equal(Buffer.from(value).toString('hex'), '01000000c613000102000000' + '09000000');
  assert.deepEqual(Buffer.from(encodeLayoutValue('u64', '18446744073709551615', 'v')), Buffer.alloc(8, 0xff));
  assert.deepEqual(decodeLayoutValue({ type: 'bytes', size: 2 }, Uint8Array.of(0xab, 0x01)), 'ab01');
  assert.deepEqual(decodeLayoutValue({ port: 'u16' }, Uint8Array.of(0x50, 0)), { port: 80 });
});

test('every wrong key or value names its field', () => {
  const layout: FieldLayout = { prefixlen: 'u32', addr: 'ipv4' };
  expectError(
    () => encodeLayoutValue(layout, { prefixlen: 8, addr: '1.2.3' }, 'x[3].key'),
    'INVALID_VALUE',
    'x[3].key.addr',
  );
  expectError(
    () => encodeLayoutValue(layout, { prefixlen: -1, addr: '1.2.3.4' }, 'k'),
    'OUT_OF_RANGE',
    'k.prefixlen',
  );
  expectError(() => encodeLayoutValue(layout, { addr: '1.2.3.4' }, 'k'), 'MISSING_FIELD', 'k.prefixlen');
  expectError(
    () => encodeLayoutValue(layout, { prefixlen: 8, addr: '1.0.0.0', x: 1 }, 'k'),
    'UNKNOWN_FIELD',
    'k.x',
  );
  expectError(() => encodeLayoutValue(layout, '1.2.3.4', 'k'), 'INVALID_TYPE', 'k');
  expectError(() => encodeLayoutValue('u8', 256, 'v'), 'OUT_OF_RANGE', 'v');
  expectError(() => encodeLayoutValue('u8', { a: 1 }, 'v'), 'FIELD_TYPE', 'v');
  expectError(() => encodeLayoutValue({ type: 'bytes', size: 2 }, 'abc', 'v'), 'INVALID_VALUE', 'v');
  // The caller's failure hook turns them into its own error with the same path.
  assert.throws(
    () =>
      encodeLayoutValue('ipv6', 'nope', 'p.v', (code, path, message) => {
        throw new Error(`${code} ${path} ${message}`);
      }),
    /^Error: INVALID_VALUE p\.v expected an IPv6 address, got "nope"$/,
  );
});

test('decode(encode(x)) is the canonical form of x for random struct values', () => {
  const layout: FieldLayout = { a: 'u8', b: 'u64', c: 'ipv6', d: 's16', e: 'mac', f: 'bool' };
  const value = fc.record({
    a: fc.integer({ min: 0, max: 255 }),
    b: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((n) => n.toString()),
    c: fc.ipV6(),
    d: fc.integer({ min: -32768, max: 32767 }),
    e: fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) =>
      Buffer.from(b)
        .toString('hex')
        .replace(/(..)(?!$)/g, '$1:'),
    ),
    f: fc.boolean(),
  });
  fc.assert(
    fc.property(value, (v) => {
      const bytes = encodeLayoutValue(layout, v, 'v');
      assert.equal(bytes.length, layoutSize(layout));
      const decoded = decodeLayoutValue(layout, bytes) as Record<string, unknown>;
      assert.deepEqual(encodeLayoutValue(layout, decoded, 'v'), bytes);
      assert.equal(decoded.a, v.a);
      assert.equal(String(decoded.b), v.b);
    }),
  );
});
