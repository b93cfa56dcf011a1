// The `maps` of a policy program: per map, the entries the agent writes; shape and bounds only (layouts are the manifest's).
import { isObject } from '../is-object.js';
import { type MapEntryInput, POLICY_LIMITS, type PolicyMapEntry } from './policy.js';
import { PolicyFieldError } from './policy-error.js';

/** Map and field names as the manifest allows them: C identifiers, not starting with `__`. */
const IDENTIFIER = /^(?!__)[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Entries left for the rest of the policy; shared by all its programs. */
export interface EntryBudget {
  left: number;
}

export function newEntryBudget(): EntryBudget {
  return { left: POLICY_LIMITS.maxPolicyMapEntries };
}

function fail(code: string, path: string, message: string): never {
  throw new PolicyFieldError(code, path, message);
}

function scalar(value: unknown, path: string): string | number | boolean {
  if (typeof value === 'string') {
    if (value.length > POLICY_LIMITS.maxEntryString) {
      fail(
        'TOO_LONG',
        path,
        `expected at most ${POLICY_LIMITS.maxEntryString} characters, got ${value.length}`,
      );
    }
    return value;
  }
  if (typeof value === 'boolean') return value;
  // -0 is written as 0 in JSON: keep the canonical 0 so a policy reads back exactly as it was signed.
  if (typeof value === 'number' && Number.isFinite(value)) return Object.is(value, -0) ? 0 : value;
  return fail('INVALID_TYPE', path, 'expected a string, a finite number, a boolean or an object of fields');
}

function entryPart(value: unknown, path: string): MapEntryInput {
  if (!isObject(value)) return scalar(value, path);
  const names = Object.keys(value);
  if (names.length === 0) fail('EMPTY', path, 'expected at least one field');
  if (names.length > POLICY_LIMITS.maxEntryFields) {
    fail('TOO_MANY', path, `expected at most ${POLICY_LIMITS.maxEntryFields} fields, got ${names.length}`);
  }
  return Object.fromEntries(
    names.map((name) => {
      const at = `${path}.${name}`;
      if (!IDENTIFIER.test(name)) fail('INVALID_VALUE', at, 'not a field name (a C identifier)');
      return [name, scalar(value[name], at)];
    }),
  );
}

function toEntry(value: unknown, path: string): PolicyMapEntry {
  if (!isObject(value)) fail('INVALID_TYPE', path, 'expected an object with key and value');
  for (const field of Object.keys(value)) {
    if (field !== 'key' && field !== 'value') fail('UNKNOWN_FIELD', `${path}.${field}`, 'unknown field');
  }
  for (const field of ['key', 'value'] as const) {
    if (value[field] === undefined || value[field] === null)
      fail('MISSING_FIELD', `${path}.${field}`, 'is required');
  }
  return { key: entryPart(value.key, `${path}.key`), value: entryPart(value.value, `${path}.value`) };
}

/** `{ <map>: [ {key, value}, … ] }`, bounded per map and per policy (`budget`). */
export function toPolicyMaps(
  value: unknown,
  path: string,
  budget: EntryBudget,
): Record<string, PolicyMapEntry[]> {
  if (!isObject(value)) fail('INVALID_TYPE', path, 'expected an object of map name → list of entries');
  const names = Object.keys(value);
  if (names.length > POLICY_LIMITS.maxMapsPerProgram) {
    fail('TOO_MANY', path, `expected at most ${POLICY_LIMITS.maxMapsPerProgram} maps, got ${names.length}`);
  }
  return Object.fromEntries(
    names.map((name) => {
      const at = `${path}.${name}`;
      if (!IDENTIFIER.test(name)) fail('INVALID_VALUE', at, 'not a map name (a C identifier)');
      const list = value[name];
      if (!Array.isArray(list)) fail('INVALID_TYPE', at, 'expected a list of {key, value} entries');
      if (list.length > POLICY_LIMITS.maxMapEntries) {
        fail('TOO_MANY', at, `expected at most ${POLICY_LIMITS.maxMapEntries} entries, got ${list.length}`);
      }
      if (list.length > budget.left) {
        fail(
          'TOO_MANY',
          at,
          `the policy's maps hold at most ${POLICY_LIMITS.maxPolicyMapEntries} entries in all; ${budget.left} are left for this one, it has ${list.length}`,
        );
      }
      budget.left -= list.length;
      // Array.from turns holes of sparse arrays into undefined, which fails the entry check.
      return [name, Array.from(list, (entry, i) => toEntry(entry, `${at}[${i}]`))];
    }),
  );
}
