// Reads the `const volatile` globals of an object from its BTF DATASEC and encodes typed values into them.
import { BpfError } from '../../errors.js';
import { type BtfHandle, libbpf, type RawPointer, readU32 } from './libbpf.js';

const KIND = {
  INT: 1,
  ARRAY: 3,
  ENUM: 6,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  VAR: 14,
  DATASEC: 15,
};
const INT_SIGNED = 1;
const INT_CHAR = 2;
const INT_BOOL = 4;

export type VariableKind = 'int' | 'uint' | 'bool' | 'string' | 'bytes';
export type ConfigValue = number | bigint | boolean | string | Uint8Array;

/** One global variable of a data section: where it lives and how to encode it. */
export interface VariableSpec {
  readonly name: string;
  readonly section: string;
  readonly offset: number;
  readonly size: number;
  readonly kind: VariableKind;
  /** The value compiled into the object. */
  readonly defaultValue: ConfigValue;
}

interface BtfType {
  nameOff: number;
  kind: number;
  vlen: number;
  sizeOrType: number;
  ptr: RawPointer;
}

function typeById(btf: BtfHandle, id: number): BtfType {
  const ptr = libbpf.btfTypeById(btf, id);
  if (!ptr) throw new BpfError('BTF_INVALID', `btf: type ${id} not found`);
  const info = readU32(ptr, 4);
  return {
    nameOff: readU32(ptr, 0),
    kind: (info >>> 24) & 0x1f,
    vlen: info & 0xffff,
    sizeOrType: readU32(ptr, 8),
    ptr,
  };
}

/** Follows typedefs and qualifiers down to the type that says how the bytes read. */
function classify(btf: BtfHandle, id: number): VariableKind {
  let t = typeById(btf, id);
  while ([KIND.TYPEDEF, KIND.VOLATILE, KIND.CONST, KIND.RESTRICT].includes(t.kind))
    t = typeById(btf, t.sizeOrType);
  if (t.kind === KIND.INT) {
    const encoding = (readU32(t.ptr, 12) >>> 24) & 0x0f;
    if (encoding & INT_BOOL) return 'bool';
    return encoding & INT_SIGNED ? 'int' : 'uint';
  }
  if (t.kind === KIND.ENUM) return 'uint';
  if (t.kind === KIND.ARRAY) {
    let elem = typeById(btf, readU32(t.ptr, 12));
    while ([KIND.TYPEDEF, KIND.VOLATILE, KIND.CONST].includes(elem.kind))
      elem = typeById(btf, elem.sizeOrType);
    if (elem.kind === KIND.INT && elem.sizeOrType === 1) {
      const encoding = (readU32(elem.ptr, 12) >>> 24) & 0x0f;
      if (encoding & INT_CHAR || encoding & INT_SIGNED || encoding === 0) return 'string';
    }
  }
  return 'bytes';
}

/** The variables of `section` (e.g. `.rodata`), read against the section's initial bytes. */
export function readVariables(btf: BtfHandle, section: string, initial: Uint8Array): VariableSpec[] {
  const id = libbpf.btfFindByNameKind(btf, section, KIND.DATASEC);
  if (id < 0) return [];
  const sec = typeById(btf, id);
  const out: VariableSpec[] = [];
  for (let i = 0; i < sec.vlen; i++) {
    const base = 12 + i * 12;
    const varType = typeById(btf, readU32(sec.ptr, base));
    const offset = readU32(sec.ptr, base + 4);
    const size = readU32(sec.ptr, base + 8);
    if (varType.kind !== KIND.VAR) continue;
    const name = libbpf.btfName(btf, varType.nameOff) ?? `var${i}`;
    const kind = classify(btf, varType.sizeOrType);
    const bytes = initial.subarray(offset, offset + size);
    out.push({ name, section, offset, size, kind, defaultValue: decodeValue(kind, bytes) });
  }
  return out;
}

export function decodeValue(kind: VariableKind, bytes: Uint8Array): ConfigValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (kind === 'bool') return bytes.some((b) => b !== 0);
  if (kind === 'string') {
    const end = bytes.indexOf(0);
    return Buffer.from(bytes.subarray(0, end < 0 ? bytes.length : end)).toString('utf8');
  }
  if (kind === 'bytes') return bytes.slice();
  const signed = kind === 'int';
  switch (bytes.length) {
    case 1:
      return signed ? view.getInt8(0) : view.getUint8(0);
    case 2:
      return signed ? view.getInt16(0, true) : view.getUint16(0, true);
    case 4:
      return signed ? view.getInt32(0, true) : view.getUint32(0, true);
    case 8:
      return signed ? view.getBigInt64(0, true) : view.getBigUint64(0, true);
    default:
      return bytes.slice();
  }
}

/**
 * Writes `value` into `target` (the variable's bytes), refusing values that do not fit. Bytes are a value already
 * encoded (the manifest's codec, which knows the declared type: a mac or ipv6 in a `__u8[]`, a bool, a `char[]`
 * of raw bytes), written as they are whatever the BTF kind; JS values are encoded by the kind.
 */
export function encodeValue(v: VariableSpec, value: ConfigValue, target: Uint8Array): void {
  const where = `config ${v.name}`;
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  if (value instanceof Uint8Array) {
    if (value.length !== v.size) {
      throw new BpfError('CONFIG_TYPE', `${where}: expected ${v.size} encoded bytes, got ${value.length}`);
    }
    target.set(value);
    return;
  }
  if (v.kind === 'bool') {
    if (typeof value !== 'boolean') throw new BpfError('CONFIG_TYPE', `${where}: expected a boolean`);
    target.fill(0);
    target[0] = value ? 1 : 0;
    return;
  }
  if (v.kind === 'string') {
    if (typeof value !== 'string') throw new BpfError('CONFIG_TYPE', `${where}: expected a string`);
    const bytes = Buffer.from(value, 'utf8');
    if (bytes.length >= v.size) {
      throw new BpfError('CONFIG_RANGE', `${where}: ${bytes.length} bytes do not fit in char[${v.size}]`);
    }
    target.fill(0);
    target.set(bytes);
    return;
  }
  if (v.kind === 'bytes') throw new BpfError('CONFIG_TYPE', `${where}: expected ${v.size} bytes`);
  if (typeof value !== 'number' && typeof value !== 'bigint') {
    throw new BpfError('CONFIG_TYPE', `${where}: expected an integer`);
  }
  if (typeof value === 'number' && !Number.isInteger(value)) {
    throw new BpfError('CONFIG_TYPE', `${where}: ${value} is not an integer`);
  }
  const big = BigInt(value);
  const bits = BigInt(v.size * 8);
  const min = v.kind === 'int' ? -(1n << (bits - 1n)) : 0n;
  const max = v.kind === 'int' ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  if (big < min || big > max) {
    throw new BpfError('CONFIG_RANGE', `${where}: ${big} is outside ${min}..${max}`);
  }
  const unsigned = BigInt.asUintN(Number(bits), big);
  for (let i = 0; i < v.size; i++) view.setUint8(i, Number((unsigned >> BigInt(8 * i)) & 0xffn));
}
