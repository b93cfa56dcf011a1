// Map key/value layouts: parsing, and the byte offsets the agent uses to decode entries.
import { ManifestError } from '../errors.js';
import { typeSize } from './config-values.js';
import {
  describe,
  expectEntries,
  expectInteger,
  FieldReader,
  IDENTIFIER,
  isPlainObject,
} from './field-reader.js';
import type { FieldLayout, ScalarLayout, ScalarType, StructLayout } from './types.js';
import { MANIFEST_LIMITS, SCALAR_TYPES } from './types.js';

export function isBytesLayout(layout: FieldLayout): layout is { type: 'bytes'; size: number } {
  return typeof layout === 'object' && layout.type === 'bytes' && typeof layout.size === 'number';
}

export function isScalarLayout(layout: FieldLayout): layout is ScalarLayout {
  return typeof layout === 'string' || isBytesLayout(layout);
}

function parseScalar(value: unknown, path: string): ScalarLayout {
  if (typeof value === 'string') {
    if (!(SCALAR_TYPES as readonly string[]).includes(value)) {
      throw new ManifestError(
        'INVALID_VALUE',
        path,
        `expected a type (${SCALAR_TYPES.join(', ')}) or {"type":"bytes","size":n}, got ${describe(value)}`,
      );
    }
    return value as ScalarType;
  }
  const reader = new FieldReader(value, path, { required: ['type', 'size'] });
  reader.enumOf('type', ['bytes'] as const);
  return {
    type: 'bytes',
    size: expectInteger(reader.get('size'), reader.at('size'), 1, MANIFEST_LIMITS.maxBytesSize),
  };
}

/** A scalar type name, `{type:'bytes', size}`, or an object of C fields → scalar layouts (declaration order). */
export function parseFieldLayout(value: unknown, path: string): FieldLayout {
  if (typeof value === 'string') return parseScalar(value, path);
  if (isPlainObject(value) && value.type === 'bytes') return parseScalar(value, path);
  const fields = expectEntries(value, path, MANIFEST_LIMITS.maxLayoutFields, IDENTIFIER);
  if (fields.length === 0) throw new ManifestError('EMPTY', path, 'expected at least one field');
  const out: StructLayout = {};
  for (const [name, field, fieldPath] of fields) out[name] = parseScalar(field, fieldPath);
  return out;
}

export interface LayoutField {
  /** The field's name; `key`/`value` for a scalar layout. */
  name: string;
  layout: ScalarLayout;
  offset: number;
  size: number;
}

function alignmentOf(layout: ScalarLayout): number {
  if (typeof layout !== 'string') return 1;
  // Addresses are byte arrays or __be32 / in6_addr in C: ipv4 and ipv6 align to 4, mac to 1.
  if (layout === 'ipv4' || layout === 'ipv6') return 4;
  if (layout === 'mac') return 1;
  return typeSize(layout);
}

export function scalarSize(layout: ScalarLayout): number {
  return typeof layout === 'string' ? typeSize(layout) : layout.size;
}

/** Fields with their offsets under C natural alignment, and the struct's size (padded to its alignment). */
export function layoutFields(
  layout: FieldLayout,
  scalarName = 'value',
): { fields: LayoutField[]; size: number } {
  if (isScalarLayout(layout)) {
    const size = scalarSize(layout);
    return { fields: [{ name: scalarName, layout, offset: 0, size }], size };
  }
  const fields: LayoutField[] = [];
  let offset = 0;
  let maxAlign = 1;
  for (const [name, field] of Object.entries(layout)) {
    const align = alignmentOf(field);
    maxAlign = Math.max(maxAlign, align);
    offset = Math.ceil(offset / align) * align;
    const size = scalarSize(field);
    fields.push({ name, layout: field, offset, size });
    offset += size;
  }
  return { fields, size: Math.ceil(offset / maxAlign) * maxAlign };
}
