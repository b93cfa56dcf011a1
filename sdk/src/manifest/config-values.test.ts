import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ManifestError } from '../errors.js';
import { fuzzRuns } from '../testing/reliability-runs.js';
import {
  decodeConfigValue,
  type Endianness,
  encodeConfigValue,
  integerRange,
  typeSize,
  validateConfigValue,
} from './config-values.js';
import { layoutFields } from './map-layout.js';
import type { ConfigType, IntegerType } from './types.js';
import { INTEGER_TYPES } from './types.js';

const RUNS = fuzzRuns();

test('integers encode little-endian by default, big-endian on request', () => {
  assert.deepEqual(encodeConfigValue({ type: 'u32' }, 0x01020304), Buffer.from([4, 3, 2, 1]));
  assert.deepEqual(encodeConfigValue({ type: 'u32' }, 0x01020304, 'be'), Buffer.from([1, 2, 3, 4]));
  assert.deepEqual(encodeConfigValue({ type: 's16' }, -2), Buffer.from([0xfe, 0xff]));
  assert.deepEqual(encodeConfigValue({ type: 'u64' }, '18446744073709551615'), Buffer.alloc(8, 0xff));
  assert.deepEqual(
    encodeConfigValue({ type: 's64' }, '-9223372036854775808'),
    Buffer.from([0, 0, 0, 0, 0, 0, 0, 0x80]),
  );
  assert.deepEqual(encodeConfigValue({ type: 'bool' }, true), Buffer.from([1]));
});

test('addresses encode in network order whatever the endianness', () => {
  for (const e of ['le', 'be'] as const) {
    assert.deepEqual(encodeConfigValue({ type: 'ipv4' }, '198.18.0.1', e), Buffer.from([198, 18, 0, 1]));
    assert.deepEqual(
      encodeConfigValue({ type: 'mac' }, '02:00:00:00:00:ff', e),
      Buffer.from([2, 0, 0, 0, 0, 0xff]),
    );
    assert.equal(
      encodeConfigValue({ type: 'ipv6' }, '2001:db8::1', e).toString('hex'),
      '20010db8000000000000000000000001',
    );
  }
  assert.equal(
    encodeConfigValue({ type: 'ipv6' }, '::ffff:198.18.0.1').toString('hex'),
    '00000000000000000000ffffc6120001',
  );
  assert.equal(encodeConfigValue({ type: 'bytes', size: 3 }, 'A1b2C3').toString('hex'), 'a1b2c3');
});

test('bad values fail with a precise code and path', () => {
  const cases: Array<[ConfigType, unknown, string, number?]> = [
    ['u8', 256, 'OUT_OF_RANGE'],
    ['s8', -129, 'OUT_OF_RANGE'],
    ['u64', '18446744073709551616', 'OUT_OF_RANGE'],
    ['u32', -1, 'OUT_OF_RANGE'],
    ['u32', 1.5, 'FIELD_TYPE'],
    ['u32', '0x10', 'FIELD_TYPE'],
    ['u32', '007', 'FIELD_TYPE'],
    ['u64', 2 ** 53, 'FIELD_TYPE'],
    ['bool', 1, 'FIELD_TYPE'],
    ['ipv4', '256.1.1.1', 'INVALID_VALUE'],
    ['ipv4', '1.2.3', 'INVALID_VALUE'],
    ['ipv6', 'fe80::1%eth0', 'INVALID_VALUE'],
    ['ipv6', '1::2::3', 'INVALID_VALUE'],
    ['ipv6', '1:2:3:4:5:6:7:8:9', 'INVALID_VALUE'],
    ['mac', '02:00:00:00:00', 'INVALID_VALUE'],
    ['bytes', 'abcd', 'INVALID_VALUE', 3],
    ['bytes', 'zz', 'INVALID_VALUE', 1],
  ];
  for (const [type, value, code, size] of cases) {
    assert.throws(
      () => validateConfigValue({ type, size }, value, 'config.x'),
      (err: unknown) => err instanceof ManifestError && err.code === code && err.path === 'config.x',
      `${type} ${String(value)}`,
    );
  }
  assert.throws(() => validateConfigValue({ type: 'u16', min: 10, max: 20 }, 21, 'policy.config.x'), {
    code: 'OUT_OF_RANGE',
    message: 'manifest policy.config.x: expected 10 to 20 (the declared bounds), got 21',
  });
});

const integerArb = fc.constantFrom(...INTEGER_TYPES).chain((type: IntegerType) => {
  const { min, max } = integerRange(type);
  return fc.record({ type: fc.constant(type), value: fc.bigInt({ min, max }) });
});

test('integers round-trip through bytes in both byte orders, within their bounds', () => {
  fc.assert(
    fc.property(
      integerArb,
      fc.constantFrom<Endianness>('le', 'be'),
      fc.boolean(),
      ({ type, value }, e, asString) => {
        const input =
          asString || value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)
            ? value.toString()
            : Number(value);
        const bytes = encodeConfigValue({ type }, input, e);
        assert.equal(bytes.length, typeSize(type));
        const back = decodeConfigValue({ type }, bytes, e);
        assert.equal(BigInt(back as number | string), value);
        assert.deepEqual(encodeConfigValue({ type }, back, e), bytes);
      },
    ),
    { numRuns: RUNS },
  );
});

test('integers just outside their type are refused', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...INTEGER_TYPES),
      fc.bigInt({ min: 1n, max: 1n << 63n }),
      fc.boolean(),
      (type, d, low) => {
        const { min, max } = integerRange(type);
        const value = low ? min - d : max + d;
        assert.throws(() => validateConfigValue({ type }, value.toString(), 'v'), { code: 'OUT_OF_RANGE' });
      },
    ),
    { numRuns: RUNS },
  );
});

test('addresses and bytes round-trip to their canonical text', () => {
  const cases = fc.oneof(
    fc.record({
      type: fc.constant<ConfigType>('ipv4'),
      bytes: fc.uint8Array({ minLength: 4, maxLength: 4 }),
    }),
    fc.record({
      type: fc.constant<ConfigType>('ipv6'),
      bytes: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    }),
    fc.record({ type: fc.constant<ConfigType>('mac'), bytes: fc.uint8Array({ minLength: 6, maxLength: 6 }) }),
    fc.record({
      type: fc.constant<ConfigType>('bytes'),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
    }),
  );
  fc.assert(
    fc.property(cases, ({ type, bytes }) => {
      const decl = { type, size: bytes.length };
      const text = decodeConfigValue(decl, bytes);
      assert.equal(validateConfigValue(decl, text, 'v'), text, 'decoded text is canonical');
      assert.deepEqual(encodeConfigValue(decl, text), Buffer.from(bytes));
    }),
    { numRuns: RUNS },
  );
});

test('ipv6 accepts the RFC 4291 forms and prints the RFC 5952 one', () => {
  const canonical = (text: string) => validateConfigValue({ type: 'ipv6' }, text, 'v');
  assert.equal(canonical('::'), '::');
  assert.equal(canonical('0:0:0:0:0:0:0:1'), '::1');
  assert.equal(canonical('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  assert.equal(canonical('2001:DB8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1');
  assert.equal(canonical('::ffff:1.2.3.4'), '::ffff:102:304');
});

test('struct layouts get C natural alignment', () => {
  const { fields, size } = layoutFields({
    a: 'u8',
    b: 'u64',
    c: 'mac',
    d: 'ipv4',
    e: { type: 'bytes', size: 3 },
  });
  assert.deepEqual(
    fields.map((f) => [f.name, f.offset, f.size]),
    [
      ['a', 0, 1],
      ['b', 8, 8],
      ['c', 16, 6],
      ['d', 24, 4],
      ['e', 28, 3],
    ],
  );
  assert.equal(size, 32);
  assert.deepEqual(layoutFields('u32', 'key'), {
    fields: [{ name: 'key', layout: 'u32', offset: 0, size: 4 }],
    size: 4,
  });
});
