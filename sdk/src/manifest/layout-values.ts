// Map keys and values in their JSON form ⇄ bytes by the manifest's layout: the one codec for written entries.
import { ManifestError } from '../errors.js';
import { decodeConfigValue, encodeConfigValue } from './config-values.js';
import { describe, isPlainObject, joinPath } from './field-reader.js';
import {
  isArrayLayout,
  isIntegerLeaf,
  isLeafLayout,
  isScalarLayout,
  layoutFields,
  leafFields,
  scalarSize,
} from './map-layout.js';
import type { ConfigValue, FieldLayout, LeafLayout, ScalarLayout } from './types.js';

/** A key or value as JSON carries it: a scalar for a leaf, an array for an array, an object of fields for a struct. */
export type LayoutValue = ConfigValue | LayoutValue[] | { [field: string]: LayoutValue };

/** Raised with the field path under the caller's base path (`…[12].key.addr`) and what was wrong there. */
export type LayoutFail = (code: string, path: string, message: string) => never;

const manifestFail: LayoutFail = (code, path, message) => {
  throw new ManifestError(code, path, message);
};

function declOf(layout: ScalarLayout) {
  return typeof layout === 'string' ? { type: layout } : { type: 'bytes' as const, size: layout.size };
}

function encodeScalar(layout: ScalarLayout, value: unknown, path: string, fail: LayoutFail): Buffer {
  try {
    // encodeConfigValue checks the value first; its errors name its own path, replaced by the caller's.
    return encodeConfigValue(declOf(layout), value);
  } catch (err) {
    if (err instanceof ManifestError)
      fail(err.code, path, err.message.slice(`manifest ${err.path}: `.length));
    throw err;
  }
}

function encodeLeaf(layout: LeafLayout, value: unknown, path: string, fail: LayoutFail): Buffer {
  if (isScalarLayout(layout)) return encodeScalar(layout, value, path, fail);
  if (layout.type === 'string') {
    const text = typeof value === 'string' ? Buffer.from(value, 'utf8') : undefined;
    if (!text) return fail('FIELD_TYPE', path, `expected a string, got ${describe(value)}`);
    // The last byte stays NUL: C reads the array as a NUL-terminated string.
    if (text.length >= layout.size)
      fail('OUT_OF_RANGE', path, `at most ${layout.size - 1} bytes of UTF-8, got ${text.length}`);
    const out = Buffer.alloc(layout.size);
    text.copy(out);
    return out;
  }
  const byName = Object.entries(layout.names).find(([, name]) => name === value)?.[0];
  return encodeScalar(layout.of, byName ?? value, path, fail);
}

function decodeLeaf(layout: LeafLayout, bytes: Uint8Array): ConfigValue {
  if (isScalarLayout(layout)) return decodeConfigValue(declOf(layout), bytes);
  if (layout.type === 'string') {
    const end = bytes.indexOf(0);
    return Buffer.from(bytes.subarray(0, end < 0 ? bytes.length : end)).toString('utf8');
  }
  const n = String(decodeConfigValue({ type: layout.of }, bytes));
  return layout.names[n] ?? n;
}

function encodeInto(
  layout: FieldLayout,
  value: unknown,
  path: string,
  fail: LayoutFail,
  out: Buffer,
  offset: number,
): void {
  if (isLeafLayout(layout)) {
    encodeLeaf(layout, value, path, fail).copy(out, offset);
    return;
  }
  if (isArrayLayout(layout)) {
    if (!Array.isArray(value) || value.length !== layout.length)
      fail('INVALID_TYPE', path, `expected an array of ${layout.length}, got ${describe(value)}`);
    const stride = scalarSize(layout.of);
    (value as unknown[]).forEach((v, i) => {
      encodeInto(layout.of, v, joinPath(path, i), fail, out, offset + i * stride);
    });
    return;
  }
  const { fields } = layoutFields(layout);
  if (!isPlainObject(value)) {
    fail(
      'INVALID_TYPE',
      path,
      `expected an object of fields (${fields.map((f) => f.name).join(', ')}), got ${describe(value)}`,
    );
  }
  const names = new Set(fields.map((f) => f.name));
  for (const name of Object.keys(value)) {
    if (!names.has(name))
      fail('UNKNOWN_FIELD', joinPath(path, name), `no such field (expected ${[...names].join(', ')})`);
  }
  for (const field of fields) {
    const fieldPath = joinPath(path, field.name);
    if (value[field.name] === undefined) fail('MISSING_FIELD', fieldPath, 'required');
    encodeInto(field.layout, value[field.name], fieldPath, fail, out, offset + field.offset);
  }
}

/**
 * Encodes a key or value with C natural alignment (padding zeroed). Struct values need every field and
 * no other, arrays every element; integers are little-endian (every bpfleet target arch), addresses in
 * network order, enums by name or number, strings NUL-padded.
 */
export function encodeLayoutValue(
  layout: FieldLayout,
  value: unknown,
  path: string,
  fail: LayoutFail = manifestFail,
): Uint8Array {
  const out = Buffer.alloc(layoutSize(layout));
  encodeInto(layout, value, path, fail, out, 0);
  return out;
}

function decodeAt(layout: FieldLayout, bytes: Uint8Array, offset: number): LayoutValue {
  if (isLeafLayout(layout)) return decodeLeaf(layout, bytes.subarray(offset, offset + scalarSize(layout)));
  if (isArrayLayout(layout)) {
    const stride = scalarSize(layout.of);
    return Array.from({ length: layout.length }, (_, i) => decodeAt(layout.of, bytes, offset + i * stride));
  }
  const { fields } = layoutFields(layout);
  return Object.fromEntries(fields.map((f) => [f.name, decodeAt(f.layout, bytes, offset + f.offset)]));
}

/** The inverse: bytes of the layout's size → the canonical JSON form. */
export function decodeLayoutValue(layout: FieldLayout, bytes: Uint8Array): LayoutValue {
  const size = layoutSize(layout);
  if (bytes.length !== size) {
    throw new ManifestError(
      'INVALID_VALUE',
      'value',
      `expected ${size} bytes for the layout, got ${bytes.length}`,
    );
  }
  return decodeAt(layout, bytes, 0);
}

/**
 * Per-CPU copies of one value folded into one: integer leaves summed (wrapping like the C type), every other
 * leaf taken from the first CPU. `copies` are each the layout's size (the kernel's 8-byte stride removed).
 */
export function foldPerCpu(layout: FieldLayout, copies: readonly Uint8Array[]): Uint8Array {
  const out = Buffer.from(copies[0] ?? new Uint8Array(layoutSize(layout)));
  for (const leaf of leafFields(layout)) {
    if (!isIntegerLeaf(leaf.layout)) continue;
    const bits = BigInt(leaf.size * 8);
    let sum = 0n;
    for (const copy of copies) sum += readUnsigned(copy, leaf.offset, leaf.size);
    sum &= (1n << bits) - 1n;
    for (let i = 0; i < leaf.size; i++) out[leaf.offset + i] = Number((sum >> BigInt(i * 8)) & 0xffn);
  }
  return out;
}

/** Splits a per-CPU lookup result (each CPU's value at an 8-byte-aligned stride) into the copies. */
export function splitPerCpu(all: Uint8Array, valueSize: number): Uint8Array[] {
  const stride = Math.ceil(valueSize / 8) * 8;
  const out: Uint8Array[] = [];
  for (let off = 0; off + valueSize <= all.length; off += stride)
    out.push(all.subarray(off, off + valueSize));
  return out;
}

/** A little-endian unsigned integer of 1-8 bytes. */
export function readUnsigned(bytes: Uint8Array, offset: number, size: number): bigint {
  let n = 0n;
  for (let i = size - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[offset + i] ?? 0);
  return n;
}

/** Size in bytes of an encoded key or value. */
export function layoutSize(layout: FieldLayout): number {
  return layoutFields(layout).size;
}
