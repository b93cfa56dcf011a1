// Map keys and values in their JSON form ⇄ bytes by the manifest's layout: the one codec for written entries.
import { ManifestError } from '../errors.js';
import { decodeConfigValue, encodeConfigValue } from './config-values.js';
import { describe, isPlainObject, joinPath } from './field-reader.js';
import { isScalarLayout, layoutFields } from './map-layout.js';
import type { ConfigValue, FieldLayout, ScalarLayout } from './types.js';

/** A key or value as JSON carries it: a scalar for a scalar layout, an object of fields for a struct. */
export type LayoutValue = ConfigValue | { [field: string]: ConfigValue };

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

/**
 * Encodes a key or value with C natural alignment (padding zeroed). Struct values need every field and
 * no other; integers are little-endian (every bpfleet target arch), addresses in network order.
 */
export function encodeLayoutValue(
  layout: FieldLayout,
  value: unknown,
  path: string,
  fail: LayoutFail = manifestFail,
): Uint8Array {
  const { fields, size } = layoutFields(layout);
  if (isScalarLayout(layout)) return encodeScalar(layout, value, path, fail);
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
  const out = Buffer.alloc(size);
  for (const field of fields) {
    const fieldPath = joinPath(path, field.name);
    if (value[field.name] === undefined) fail('MISSING_FIELD', fieldPath, 'required');
    encodeScalar(field.layout, value[field.name], fieldPath, fail).copy(out, field.offset);
  }
  return out;
}

/** The inverse: bytes of the layout's size → the canonical JSON form. */
export function decodeLayoutValue(layout: FieldLayout, bytes: Uint8Array): LayoutValue {
  const { fields, size } = layoutFields(layout);
  if (bytes.length !== size) {
    throw new ManifestError(
      'INVALID_VALUE',
      'value',
      `expected ${size} bytes for the layout, got ${bytes.length}`,
    );
  }
  const decode = (f: (typeof fields)[number]) =>
    decodeConfigValue(declOf(f.layout), bytes.subarray(f.offset, f.offset + f.size));
  if (isScalarLayout(layout)) return decode(fields[0] as (typeof fields)[number]);
  return Object.fromEntries(fields.map((f) => [f.name, decode(f)]));
}

/** Size in bytes of an encoded key or value. */
export function layoutSize(layout: FieldLayout): number {
  return layoutFields(layout).size;
}
