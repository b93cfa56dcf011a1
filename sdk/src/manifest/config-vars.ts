// The `config` section: typed `const volatile` globals with defaults and bounds.
import { ManifestError } from '../errors.js';
import { fromBigInt, integerRange, isIntegerType, toBigInt, validateConfigValue } from './config-values.js';
import { DESCRIPTION, expectEntries, expectInteger, FieldReader, IDENTIFIER } from './field-reader.js';
import type { ConfigVarDecl, IntegerType } from './types.js';
import { CONFIG_TYPES, MANIFEST_LIMITS } from './types.js';

function parseBound(reader: FieldReader, key: 'min' | 'max', type: IntegerType): number | string | undefined {
  if (!reader.has(key)) return undefined;
  const value = toBigInt(reader.get(key), reader.at(key));
  const range = integerRange(type);
  if (value < range.min || value > range.max) {
    throw new ManifestError(
      'OUT_OF_RANGE',
      reader.at(key),
      `expected ${range.min} to ${range.max} (${type}), got ${value}`,
    );
  }
  return fromBigInt(value);
}

export function parseConfigVar(value: unknown, path: string): ConfigVarDecl {
  const reader = new FieldReader(value, path, {
    required: ['type', 'default'],
    optional: ['size', 'min', 'max', 'description'],
  });
  const type = reader.enumOf('type', CONFIG_TYPES);
  const decl: ConfigVarDecl = { type, default: false };
  if (type === 'bytes') {
    if (!reader.has('size'))
      throw new ManifestError('MISSING_FIELD', reader.at('size'), 'required for type bytes');
    decl.size = expectInteger(reader.get('size'), reader.at('size'), 1, MANIFEST_LIMITS.maxBytesSize);
  } else if (reader.has('size')) {
    throw new ManifestError('FIELD_NOT_ALLOWED', reader.at('size'), `only for type bytes, not ${type}`);
  }
  for (const key of ['min', 'max'] as const) {
    if (!reader.has(key)) continue;
    if (!isIntegerType(type)) {
      throw new ManifestError('FIELD_NOT_ALLOWED', reader.at(key), `only for integer types, not ${type}`);
    }
    decl[key] = parseBound(reader, key, type);
  }
  if (decl.min !== undefined && decl.max !== undefined && BigInt(decl.min) > BigInt(decl.max)) {
    throw new ManifestError('OUT_OF_RANGE', reader.at('min'), `min ${decl.min} is above max ${decl.max}`);
  }
  decl.default = validateConfigValue(decl, reader.get('default'), reader.at('default'));
  if (reader.has('description')) decl.description = reader.string('description', DESCRIPTION);
  return decl;
}

export function parseConfigSection(value: unknown, path: string): { [name: string]: ConfigVarDecl } {
  const out: { [name: string]: ConfigVarDecl } = {};
  for (const [name, entry, entryPath] of expectEntries(
    value,
    path,
    MANIFEST_LIMITS.maxConfigVars,
    IDENTIFIER,
  )) {
    out[name] = parseConfigVar(entry, entryPath);
  }
  return out;
}
