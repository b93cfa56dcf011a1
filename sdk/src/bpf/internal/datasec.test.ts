// Tests: the bytes the manifest codec makes for a config value are what lands in the variable, whatever its BTF kind.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ConfigVarDecl, encodeConfigValue } from '../../manifest/index.js';
import { encodeValue, type VariableSpec } from './datasec.js';

// The BTF kind and size clang gives the C declaration a program uses for each manifest type.
const CASES: Array<[ConfigVarDecl, VariableSpec['kind'], number, unknown]> = [
  [{ type: 'u8', default: 0 }, 'uint', 1, 200],
  [{ type: 'u16', default: 0 }, 'uint', 2, 65000],
  [{ type: 'u32', default: 0 }, 'uint', 4, 4000000000],
  [{ type: 'u64', default: 0 }, 'uint', 8, '18446744073709551557'],
  [{ type: 's8', default: 0 }, 'int', 1, -100],
  [{ type: 's16', default: 0 }, 'int', 2, -30000],
  [{ type: 's32', default: 0 }, 'int', 4, -2000000000],
  [{ type: 's64', default: 0 }, 'int', 8, '-9223372036854775808'],
  [{ type: 'bool', default: false }, 'bool', 1, true],
  [{ type: 'bool', default: true }, 'bool', 1, false],
  [{ type: 'ipv4', default: '0.0.0.0' }, 'uint', 4, '198.18.102.7'],
  [{ type: 'ipv6', default: '::' }, 'string', 16, '2001:db8::7'],
  [{ type: 'mac', default: '00:00:00:00:00:00' }, 'string', 6, '02:00:00:00:00:07'],
  [{ type: 'bytes', size: 8, default: '00' }, 'string', 8, 'ff00ff00ff00ff00'],
  [{ type: 'bytes', size: 4, default: '00' }, 'bytes', 4, 'deadbeef'],
];

for (const [decl, kind, size, value] of CASES) {
  test(`a ${decl.type} value encoded by the manifest is written verbatim into a ${kind} variable`, () => {
    const v: VariableSpec = { name: 'v', section: '.rodata', offset: 0, size, kind, defaultValue: 0 };
    const bytes = encodeConfigValue(decl, value);
    const target = new Uint8Array(size).fill(0xaa);
    encodeValue(v, bytes, target);
    assert.deepEqual(Buffer.from(target), bytes);
  });
}

test('encoded bytes of the wrong width are refused with the variable named', () => {
  const v: VariableSpec = {
    name: 'flag',
    section: '.rodata',
    offset: 0,
    size: 1,
    kind: 'bool',
    defaultValue: 0,
  };
  assert.throws(
    () => encodeValue(v, new Uint8Array(4), new Uint8Array(1)),
    (err: Error & { code?: string }) =>
      err.code === 'CONFIG_TYPE' && /^config flag: expected 1 encoded bytes, got 4/.test(err.message),
  );
});
