// Map keys and values as tests write them (a scalar, or an object of fields), encoded with the manifest's layout.
import { BuildError } from '../errors.js';
import { decodeConfigValue, encodeConfigValue, type FieldLayout, layoutFields } from '../manifest/index.js';

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

/** Decodes a value; per-CPU values have their integer fields summed, as metrics fold them. */
export function decodeLayout(layout: FieldLayout, values: Uint8Array[]): Record<string, ScalarValue> {
  const { fields } = layoutFields(layout, 'value');
  const out: Record<string, ScalarValue> = {};
  for (const field of fields) {
    const decl = declOf(field.layout) as never;
    const parts = values.map((v) =>
      decodeConfigValue(decl, v.subarray(field.offset, field.offset + field.size)),
    );
    const integer = typeof field.layout === 'string' && /^[us]\d+$/.test(field.layout);
    out[field.name] = integer
      ? String(parts.reduce((sum: bigint, p) => sum + BigInt(p as number | string), 0n))
      : (parts[0] ?? '');
  }
  return out;
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
  const scalar = typeof layout === 'string' || 'type' in layout;
  const wanted: Record<string, Expected> = scalar
    ? { value: expected as Expected }
    : (expected as Record<string, Expected>);
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
