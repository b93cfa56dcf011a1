// Typed reading of untrusted JSON objects: each failure is a ManifestError naming the field path and what was expected.
import { ManifestError } from '../errors.js';
import { MANIFEST_LIMITS } from './types.js';

export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  const part = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : JSON.stringify(key);
  return base ? `${base}.${part}` : part;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? 'a long string' : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `a value of type ${typeof value}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function expectObject(value: unknown, path: string): Record<string, unknown> {
  if (!isPlainObject(value))
    throw new ManifestError('FIELD_TYPE', path, `expected an object, got ${describe(value)}`);
  return value;
}

export interface StringRule {
  max: number;
  min?: number;
  pattern?: RegExp;
  /** What the pattern means, for the message. */
  expected?: string;
  code?: string;
}

export function expectString(value: unknown, path: string, rule: StringRule): string {
  if (typeof value !== 'string')
    throw new ManifestError('FIELD_TYPE', path, `expected a string, got ${describe(value)}`);
  const min = rule.min ?? 1;
  if (value.length < min) throw new ManifestError('TOO_SHORT', path, `expected at least ${min} characters`);
  if (value.length > rule.max) {
    throw new ManifestError('TOO_LONG', path, `expected at most ${rule.max} characters, got ${value.length}`);
  }
  if (rule.pattern && !rule.pattern.test(value)) {
    const code = rule.code ?? 'INVALID_VALUE';
    throw new ManifestError(
      code,
      path,
      `expected ${rule.expected ?? `to match ${rule.pattern}`}, got ${describe(value)}`,
    );
  }
  return value;
}

export function expectEnum<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (typeof value !== 'string')
    throw new ManifestError('FIELD_TYPE', path, `expected a string, got ${describe(value)}`);
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ManifestError(
      'INVALID_VALUE',
      path,
      `expected one of ${allowed.join(', ')}, got ${describe(value)}`,
    );
  }
  return value as T;
}

export function expectBoolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') {
    throw new ManifestError('FIELD_TYPE', path, `expected true or false, got ${describe(value)}`);
  }
  return value;
}

export function expectInteger(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ManifestError('FIELD_TYPE', path, `expected an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new ManifestError('OUT_OF_RANGE', path, `expected an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

export function expectArray(value: unknown, path: string, max: number, nonEmpty = false): unknown[] {
  if (!Array.isArray(value))
    throw new ManifestError('FIELD_TYPE', path, `expected an array, got ${describe(value)}`);
  if (nonEmpty && value.length === 0) throw new ManifestError('EMPTY', path, 'expected at least one item');
  if (value.length > max) {
    throw new ManifestError('TOO_MANY', path, `expected at most ${max} items, got ${value.length}`);
  }
  // Array.from turns holes of sparse arrays (possible in objects not from JSON) into undefined, which fails checks.
  return Array.from(value);
}

/** Dictionary keys (names of config vars, maps, fields, labels): bounded count, each key checked. */
export function expectEntries(
  value: unknown,
  path: string,
  max: number,
  key: StringRule,
): Array<[name: string, value: unknown, path: string]> {
  const object = expectObject(value, path);
  const names = Object.keys(object);
  if (names.length > max) {
    throw new ManifestError('TOO_MANY', path, `expected at most ${max} entries, got ${names.length}`);
  }
  return names.map((name) => {
    const entryPath = joinPath(path, name);
    expectString(name, entryPath, { ...key, code: key.code ?? 'INVALID_NAME' });
    return [name, object[name], entryPath];
  });
}

/** An object with a fixed set of fields: unknown ones rejected, required ones present. */
export class FieldReader {
  readonly path: string;
  private readonly object: Record<string, unknown>;

  constructor(
    value: unknown,
    path: string,
    fields: { required?: readonly string[]; optional?: readonly string[] },
  ) {
    this.path = path;
    this.object = expectObject(value, path);
    const required = fields.required ?? [];
    const known = new Set([...required, ...(fields.optional ?? [])]);
    for (const key of Object.keys(this.object)) {
      if (!known.has(key)) {
        throw new ManifestError(
          'UNKNOWN_FIELD',
          joinPath(path, key),
          `unknown field (expected ${[...known].join(', ')})`,
        );
      }
    }
    for (const key of required) {
      if (this.object[key] === undefined)
        throw new ManifestError('MISSING_FIELD', joinPath(path, key), 'required');
    }
  }

  has(key: string): boolean {
    return this.object[key] !== undefined;
  }

  get(key: string): unknown {
    return this.object[key];
  }

  at(key: string): string {
    return joinPath(this.path, key);
  }

  string(key: string, rule: StringRule): string {
    return expectString(this.object[key], this.at(key), rule);
  }

  boolean(key: string): boolean {
    return expectBoolean(this.object[key], this.at(key));
  }

  enumOf<T extends string>(key: string, allowed: readonly T[]): T {
    return expectEnum(this.object[key], this.at(key), allowed);
  }
}

/** C identifiers; `__`-prefixed names are reserved in C and would collide with `__proto__`. */
export const IDENTIFIER: StringRule = {
  max: MANIFEST_LIMITS.maxIdentifier,
  pattern: /^(?!__)[A-Za-z_][A-Za-z0-9_]*$/,
  expected: 'a C identifier (letters, digits, _; not starting with a digit or __)',
  code: 'INVALID_NAME',
};

export const DESCRIPTION: StringRule = { max: MANIFEST_LIMITS.maxDescription, min: 0 };
