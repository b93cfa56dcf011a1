// Map key/value layouts: parsing, and the byte offsets the agent uses to decode entries.
import { ManifestError } from '../errors.js';
import { typeSize } from './config-values.js';
import {
  describe,
  expectEntries,
  expectInteger,
  expectString,
  FieldReader,
  IDENTIFIER,
  isPlainObject,
  joinPath,
} from './field-reader.js';
import type {
  ArrayLayout,
  EnumLayout,
  FieldLayout,
  LeafLayout,
  ScalarLayout,
  ScalarType,
  StringLayout,
  StructLayout,
} from './types.js';
import { INTEGER_TYPES, MANIFEST_LIMITS, SCALAR_TYPES } from './types.js';

/** The `type` values of layouts written as objects; a struct never has one of these as a field's layout. */
const TAGGED = ['bytes', 'string', 'enum', 'array'] as const;

function tagOf(layout: FieldLayout): (typeof TAGGED)[number] | undefined {
  if (typeof layout !== 'object') return undefined;
  const type = (layout as { type?: unknown }).type;
  return (TAGGED as readonly unknown[]).includes(type) ? (type as (typeof TAGGED)[number]) : undefined;
}

export function isBytesLayout(layout: FieldLayout): layout is { type: 'bytes'; size: number } {
  return tagOf(layout) === 'bytes';
}

export function isScalarLayout(layout: FieldLayout): layout is ScalarLayout {
  return typeof layout === 'string' || isBytesLayout(layout);
}

export function isArrayLayout(layout: FieldLayout): layout is ArrayLayout {
  return tagOf(layout) === 'array';
}

/** A value that decodes on its own (scalar, bytes, string, enum), not a struct or an array. */
export function isLeafLayout(layout: FieldLayout): layout is LeafLayout {
  const tag = tagOf(layout);
  return typeof layout === 'string' || (tag !== undefined && tag !== 'array');
}

export function isStructLayout(layout: FieldLayout): layout is StructLayout {
  return typeof layout === 'object' && tagOf(layout) === undefined;
}

export function isIntegerLeaf(layout: FieldLayout): boolean {
  return typeof layout === 'string' && (INTEGER_TYPES as readonly string[]).includes(layout);
}

function parseScalar(value: string, path: string): ScalarType {
  if (!(SCALAR_TYPES as readonly string[]).includes(value)) {
    throw new ManifestError(
      'INVALID_VALUE',
      path,
      `expected a type (${SCALAR_TYPES.join(', ')}), an object of fields, or {"type": "bytes" | "string" | "enum" | "array", …}, got ${describe(value)}`,
    );
  }
  return value as ScalarType;
}

function parseTagged(value: Record<string, unknown>, path: string, depth: number): FieldLayout {
  const type = value.type as (typeof TAGGED)[number];
  if (type === 'bytes' || type === 'string') {
    const reader = new FieldReader(value, path, { required: ['type', 'size'] });
    const size = expectInteger(reader.get('size'), reader.at('size'), 1, MANIFEST_LIMITS.maxBytesSize);
    return type === 'bytes' ? { type, size } : ({ type, size } satisfies StringLayout);
  }
  if (type === 'enum') {
    const reader = new FieldReader(value, path, { required: ['type', 'of', 'names'] });
    const of = reader.enumOf('of', INTEGER_TYPES);
    const names: EnumLayout['names'] = {};
    const rule = { max: 20, pattern: /^-?(0|[1-9][0-9]*)$/, expected: 'a decimal integer' };
    const entries = expectEntries(
      reader.get('names'),
      reader.at('names'),
      MANIFEST_LIMITS.maxLabelValues,
      rule,
    );
    for (const [n, name, namePath] of entries) names[n] = expectString(name, namePath, { max: 128 });
    return { type, of, names };
  }
  const reader = new FieldReader(value, path, { required: ['type', 'of', 'length'] });
  const length = expectInteger(reader.get('length'), reader.at('length'), 1, MANIFEST_LIMITS.maxArrayLength);
  const of = parseLayout(reader.get('of'), reader.at('of'), depth + 1);
  return { type: 'array', of, length };
}

function parseLayout(value: unknown, path: string, depth: number): FieldLayout {
  if (depth > MANIFEST_LIMITS.maxLayoutDepth)
    throw new ManifestError('TOO_DEEP', path, `layouts nest at most ${MANIFEST_LIMITS.maxLayoutDepth} deep`);
  if (typeof value === 'string') return parseScalar(value, path);
  if (isPlainObject(value) && (TAGGED as readonly unknown[]).includes(value.type))
    return parseTagged(value, path, depth);
  const fields = expectEntries(value, path, MANIFEST_LIMITS.maxLayoutFields, IDENTIFIER);
  if (fields.length === 0) throw new ManifestError('EMPTY', path, 'expected at least one field');
  const out: StructLayout = {};
  for (const [name, field, fieldPath] of fields) out[name] = parseLayout(field, fieldPath, depth + 1);
  return out;
}

/**
 * A scalar type name; `{type: "bytes" | "string", size}`; `{type: "enum", of, names}`; `{type: "array", of,
 * length}`; or an object of C fields → layouts (declaration order, nesting allowed).
 */
export function parseFieldLayout(value: unknown, path: string): FieldLayout {
  const layout = parseLayout(value, path, 0);
  const size = layoutFields(layout).size;
  if (size > MANIFEST_LIMITS.maxLayoutBytes)
    throw new ManifestError(
      'TOO_LARGE',
      path,
      `${size} bytes; a key or value is at most ${MANIFEST_LIMITS.maxLayoutBytes}`,
    );
  return layout;
}

export interface LayoutField {
  /** The field's name; `key`/`value` for a scalar layout. */
  name: string;
  layout: FieldLayout;
  offset: number;
  size: number;
}

function alignmentOf(layout: FieldLayout): number {
  if (typeof layout === 'string') {
    // Addresses are byte arrays or __be32 / in6_addr in C: ipv4 and ipv6 align to 4, mac to 1.
    if (layout === 'ipv4' || layout === 'ipv6') return 4;
    if (layout === 'mac') return 1;
    return typeSize(layout);
  }
  const tag = tagOf(layout);
  if (tag === 'enum') return typeSize((layout as EnumLayout).of);
  if (tag === 'array') return alignmentOf((layout as ArrayLayout).of);
  if (tag !== undefined) return 1;
  return Math.max(1, ...Object.values(layout as StructLayout).map(alignmentOf));
}

/** Bytes a layout takes, its trailing padding included (C's `sizeof`). */
export function scalarSize(layout: FieldLayout): number {
  if (typeof layout === 'string') return typeSize(layout);
  const tag = tagOf(layout);
  if (tag === 'enum') return typeSize((layout as EnumLayout).of);
  if (tag === 'array') return scalarSize((layout as ArrayLayout).of) * (layout as ArrayLayout).length;
  if (tag !== undefined) return (layout as { size: number }).size;
  return layoutFields(layout).size;
}

// Per struct layout object, its fields: an event stream decodes every record by one layout (callers only read them).
const structFields = new WeakMap<object, { fields: LayoutField[]; size: number }>();

/**
 * The top-level fields with their offsets under C natural alignment, and the struct's size (padded to its
 * alignment). A field may itself be a struct or an array; `leafFields` walks down to the values.
 */
export function layoutFields(
  layout: FieldLayout,
  scalarName = 'value',
): { fields: LayoutField[]; size: number } {
  if (!isStructLayout(layout)) {
    const size = scalarSize(layout);
    return { fields: [{ name: scalarName, layout, offset: 0, size }], size };
  }
  const known = structFields.get(layout);
  if (known) return known;
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
  const result = { fields, size: Math.ceil(offset / maxAlign) * maxAlign };
  structFields.set(layout, result);
  return result;
}

/** A field found by a dotted path (`stats.packets`, `slots`) inside a struct layout, with its absolute offset. */
export function fieldAt(layout: FieldLayout, path: string, scalarName = 'value'): LayoutField | undefined {
  let current: LayoutField | undefined;
  let base = 0;
  let within = layout;
  for (const part of path.split('.')) {
    const found = layoutFields(within, scalarName).fields.find((f) => f.name === part);
    if (!found) return undefined;
    current = { ...found, name: path, offset: base + found.offset };
    base = current.offset;
    within = found.layout;
    if (!isStructLayout(within)) scalarName = '\0';
  }
  return current;
}

/** Every leaf value with its path (`hdr.len`, `slots[3]`) and absolute offset, in memory order. */
export function leafFields(layout: FieldLayout, scalarName = 'value'): LayoutField[] {
  const out: LayoutField[] = [];
  const walk = (l: FieldLayout, name: string, offset: number) => {
    if (isArrayLayout(l)) {
      const stride = scalarSize(l.of);
      for (let i = 0; i < l.length; i++) walk(l.of, `${name}[${i}]`, offset + i * stride);
    } else if (isStructLayout(l)) {
      for (const f of layoutFields(l).fields) walk(f.layout, joinPath(name, f.name), offset + f.offset);
    } else {
      out.push({ name, layout: l, offset, size: scalarSize(l) });
    }
  };
  if (isStructLayout(layout)) walk(layout, '', 0);
  else walk(layout, scalarName, 0);
  return out.map((f) => ({ ...f, name: f.name.replace(/^\./, '') }));
}
