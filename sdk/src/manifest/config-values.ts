// Config values: one set of rules to check, normalise, encode (for the object's .rodata) and decode them.
import { ManifestError } from '../errors.js';
import { formatIpv4, formatIpv6, formatMac, parseIpv4, parseIpv6, parseMac } from './addresses.js';
import { describe } from './field-reader.js';
import type { ConfigType, ConfigValue, ConfigVarDecl, IntegerType } from './types.js';
import { INTEGER_TYPES } from './types.js';

export type Endianness = 'le' | 'be';

const DECIMAL = /^-?(0|[1-9][0-9]{0,19})$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

export function isIntegerType(type: ConfigType): type is IntegerType {
  return (INTEGER_TYPES as readonly string[]).includes(type);
}

/** Width in bytes of a value of this type (`bytes` needs its declared size). */
export function typeSize(type: ConfigType, size?: number): number {
  switch (type) {
    case 'u8':
    case 's8':
    case 'bool':
      return 1;
    case 'u16':
    case 's16':
      return 2;
    case 'u32':
    case 's32':
    case 'ipv4':
      return 4;
    case 'u64':
    case 's64':
      return 8;
    case 'mac':
      return 6;
    case 'ipv6':
      return 16;
    case 'bytes':
      return size ?? 0;
  }
}

export function integerRange(type: IntegerType): { min: bigint; max: bigint } {
  const bits = BigInt(typeSize(type) * 8);
  if (type.startsWith('u')) return { min: 0n, max: (1n << bits) - 1n };
  return { min: -(1n << (bits - 1n)), max: (1n << (bits - 1n)) - 1n };
}

/** An integer as JSON may carry it (safe-range number or decimal string), as a bigint. */
export function toBigInt(value: unknown, path: string): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new ManifestError(
        'FIELD_TYPE',
        path,
        `expected an integer (beyond ±2^53 as a decimal string), got ${describe(value)}`,
      );
    }
    return BigInt(value);
  }
  if (typeof value === 'string' && DECIMAL.test(value) && value !== '-0') return BigInt(value);
  throw new ManifestError(
    'FIELD_TYPE',
    path,
    `expected an integer or a decimal string, got ${describe(value)}`,
  );
}

/** Canonical JSON form of an integer: a number when exact, else a decimal string. */
export function fromBigInt(value: bigint): number | string {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}

function checkIntegerBounds(
  decl: Pick<ConfigVarDecl, 'type' | 'min' | 'max'>,
  value: bigint,
  path: string,
): void {
  const range = integerRange(decl.type as IntegerType);
  const min = decl.min === undefined ? range.min : BigInt(decl.min);
  const max = decl.max === undefined ? range.max : BigInt(decl.max);
  if (value < min || value > max) {
    const bound = value < range.min || value > range.max ? decl.type : 'the declared bounds';
    throw new ManifestError('OUT_OF_RANGE', path, `expected ${min} to ${max} (${bound}), got ${value}`);
  }
}

type ValueDecl = Pick<ConfigVarDecl, 'type' | 'size' | 'min' | 'max'>;

/**
 * Checks a value against its declaration (type, width, bounds) and returns its canonical form.
 * Used for manifest defaults and for operator-set values in policies alike.
 */
export function validateConfigValue(decl: ValueDecl, value: unknown, path: string): ConfigValue {
  const { type } = decl;
  if (isIntegerType(type)) {
    const n = toBigInt(value, path);
    checkIntegerBounds(decl, n, path);
    return fromBigInt(n);
  }
  if (type === 'bool') {
    if (typeof value !== 'boolean') {
      throw new ManifestError('FIELD_TYPE', path, `expected true or false, got ${describe(value)}`);
    }
    return value;
  }
  if (typeof value !== 'string')
    throw new ManifestError('FIELD_TYPE', path, `expected a string, got ${describe(value)}`);
  switch (type) {
    case 'ipv4':
      if (!parseIpv4(value))
        throw new ManifestError(
          'INVALID_VALUE',
          path,
          `expected a dotted IPv4 address, got ${describe(value)}`,
        );
      return value;
    case 'ipv6': {
      const bytes = parseIpv6(value);
      if (!bytes)
        throw new ManifestError('INVALID_VALUE', path, `expected an IPv6 address, got ${describe(value)}`);
      return formatIpv6(bytes);
    }
    case 'mac':
      if (!parseMac(value)) {
        throw new ManifestError(
          'INVALID_VALUE',
          path,
          `expected a MAC address aa:bb:cc:dd:ee:ff, got ${describe(value)}`,
        );
      }
      return value.toLowerCase();
    case 'bytes': {
      const size = decl.size ?? 0;
      if (!HEX.test(value) || value.length !== size * 2) {
        throw new ManifestError(
          'INVALID_VALUE',
          path,
          `expected ${size} bytes as ${size * 2} hex digits, got ${describe(value)}`,
        );
      }
      return value.toLowerCase();
    }
  }
}

/** Alias of `validateConfigValue` for callers that only want the canonical form. */
export const normalizeConfigValue = validateConfigValue;

/** The bytes the program's global holds: integers in the target's byte order, addresses in network order. */
export function encodeConfigValue(decl: ValueDecl, value: unknown, endianness: Endianness = 'le'): Buffer {
  const path = 'value';
  const canonical = validateConfigValue(decl, value, path);
  const { type } = decl;
  if (isIntegerType(type)) {
    const n = BigInt(canonical as number | string);
    const size = typeSize(type);
    const unsigned = n < 0n ? n + (1n << BigInt(size * 8)) : n;
    const out = Buffer.alloc(size);
    for (let i = 0; i < size; i++) {
      const byte = Number((unsigned >> BigInt(i * 8)) & 0xffn);
      out[endianness === 'le' ? i : size - 1 - i] = byte;
    }
    return out;
  }
  switch (type) {
    case 'bool':
      return Buffer.from([canonical ? 1 : 0]);
    case 'ipv4':
      return parseIpv4(canonical as string) as Buffer;
    case 'ipv6':
      return parseIpv6(canonical as string) as Buffer;
    case 'mac':
      return parseMac(canonical as string) as Buffer;
    default:
      return Buffer.from(canonical as string, 'hex');
  }
}

/** The inverse of `encodeConfigValue`: bytes of the declared width → canonical value. */
export function decodeConfigValue(
  decl: ValueDecl,
  bytes: Uint8Array,
  endianness: Endianness = 'le',
): ConfigValue {
  const { type } = decl;
  const size = typeSize(type, decl.size);
  if (bytes.length !== size) {
    throw new ManifestError(
      'INVALID_VALUE',
      'value',
      `expected ${size} bytes for ${type}, got ${bytes.length}`,
    );
  }
  if (isIntegerType(type)) {
    let n = 0n;
    for (let i = 0; i < size; i++) {
      const byte = bytes[endianness === 'le' ? i : size - 1 - i] ?? 0;
      n |= BigInt(byte) << BigInt(i * 8);
    }
    if (type.startsWith('s') && n >= 1n << BigInt(size * 8 - 1)) n -= 1n << BigInt(size * 8);
    return fromBigInt(n);
  }
  switch (type) {
    case 'bool':
      return bytes[0] !== 0;
    case 'ipv4':
      return formatIpv4(bytes);
    case 'ipv6':
      return formatIpv6(bytes);
    case 'mac':
      return formatMac(bytes);
    default:
      return Buffer.from(bytes).toString('hex');
  }
}
