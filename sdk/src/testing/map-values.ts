// Map keys and values as tests write them (a scalar, or an object of fields), encoded with the manifest's layout.
import { BuildError } from '../errors.js';
import {
  decodeLayoutValue,
  encodeConfigValue,
  encodeLayoutValue,
  type FieldLayout,
  isIntegerLeaf,
  layoutFields,
  leafFields,
} from '../manifest/index.js';
import { isStructLayout } from '../manifest/map-layout.js';

type ScalarValue = number | string | boolean;
/** What a test compares a field with: a value, or bounds for counters that other traffic may also bump. */
export type Expected = ScalarValue | { min?: number | string; max?: number | string };

function declOf(layout: FieldLayout) {
  return typeof layout === 'string'
    ? { type: layout }
    : { type: 'bytes' as const, size: (layout as { size: number }).size };
}

export function encodeLayout(layout: FieldLayout, value: unknown, what: string): Uint8Array {
  const { fields, size } = layoutFields(layout);
  if (leafFields(layout).length !== fields.length || fields.some((f) => isStructLayout(f.layout))) {
    // Nested structs and arrays: the manifest's codec, its errors with the field path.
    return encodeLayoutValue(layout, value, what, (_code, path, message) => {
      throw new BuildError('BAD_TEST', `${path}: ${message}`);
    });
  }
  const out = Buffer.alloc(size);
  const scalar = fields.length === 1 && (typeof layout === 'string' || 'type' in layout);
  for (const field of fields) {
    const v = scalar ? value : (value as Record<string, unknown> | undefined)?.[field.name];
    if (v === undefined) throw new BuildError('BAD_TEST', `${what}: field ${field.name} missing`);
    try {
      encodeConfigValue(declOf(field.layout) as never, v).copy(out, field.offset);
    } catch (err) {
      throw new BuildError('BAD_TEST', `${what}: field ${field.name}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  return out;
}

/**
 * Decodes a value into its leaves by path (`packets`, `inner.kind`, `slots[3]`; `value` for a scalar); per-CPU
 * values have their integer leaves summed, as metrics fold them.
 */
export function decodeLayout(layout: FieldLayout, values: Uint8Array[]): Record<string, ScalarValue> {
  const out: Record<string, ScalarValue> = {};
  for (const leaf of leafFields(layout, 'value')) {
    const parts = values.map((v) =>
      decodeLayoutValue(leaf.layout, v.subarray(leaf.offset, leaf.offset + leaf.size)),
    );
    out[leaf.name] = isIntegerLeaf(leaf.layout)
      ? String(parts.reduce((sum: bigint, p) => sum + BigInt(p as number | string), 0n))
      : ((parts[0] as ScalarValue | undefined) ?? '');
  }
  return out;
}

function isBounds(value: unknown): value is { min?: number | string; max?: number | string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length > 0 &&
    Object.keys(value).every((k) => k === 'min' || k === 'max')
  );
}

/** An expectation as leaf paths, like `decodeLayout`'s: nested objects and arrays (histogram slots) walked down. */
function flattenExpected(expected: unknown, path: string, out: Record<string, Expected>): void {
  if (Array.isArray(expected)) {
    for (const [i, e] of expected.entries()) flattenExpected(e, `${path}[${i}]`, out);
  } else if (typeof expected === 'object' && expected !== null && !isBounds(expected)) {
    for (const [k, v] of Object.entries(expected)) flattenExpected(v, path ? `${path}.${k}` : k, out);
  } else out[path] = expected as Expected;
}

/** Values as the test file wrote them: `2`, `"ab:cd"`, `between 1 and 5`, never a number in quotes. */
function describeExpected(want: Expected): string {
  if (typeof want !== 'object') return String(want);
  if (want.min !== undefined && want.max !== undefined) return `between ${want.min} and ${want.max}`;
  return want.min !== undefined ? `at least ${want.min}` : `at most ${want.max}`;
}

function matches(actual: ScalarValue | undefined, expected: Expected): boolean {
  if (actual === undefined) return false;
  if (typeof expected === 'object') {
    const n = BigInt(actual as string);
    return (
      (expected.min === undefined || n >= BigInt(expected.min)) &&
      (expected.max === undefined || n <= BigInt(expected.max))
    );
  }
  return String(actual) === String(expected);
}

/** Differences between a decoded value and an expectation; only the fields the expectation names count. */
export function compareValue(
  layout: FieldLayout,
  actual: Record<string, ScalarValue>,
  expected: unknown,
  what: string,
): string[] {
  const scalar = leafFields(layout, 'value').length === 1 && leafFields(layout, 'value')[0]?.name === 'value';
  const wanted: Record<string, Expected> = {};
  flattenExpected(expected, scalar || !isStructLayout(layout) ? 'value' : '', wanted);
  const diffs: string[] = [];
  for (const [field, want] of Object.entries(wanted)) {
    if (!matches(actual[field], want)) {
      diffs.push(
        `${what}${scalar ? '' : `.${field}`}: expected ${describeExpected(want)}, got ${actual[field] === undefined ? 'nothing' : String(actual[field])}`,
      );
    }
  }
  return diffs;
}
