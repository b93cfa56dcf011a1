// The root of trust (TUF's root.json in small): each role's keys, the thresholds, a version and an expiry.
import { TrustError } from '../errors.js';
import { NAMESPACE_PATTERN, parseTrustedKey, type TrustedKey } from './trust-policy.js';

export const ROOT_SCHEMA = 'bpfleet.root/v1';

/** Keys of a role whose documents carry several signatures: `threshold` of them must sign. */
export interface ThresholdRole {
  keys: TrustedKey[];
  threshold: number;
}

/** Keys of a role whose documents carry one signature (index, edge overrides, packages): any one key. */
export interface KeyRole {
  keys: TrustedKey[];
}

export interface RootRoles {
  /** Who signs the next root (a threshold of these, and of the next root's own). */
  root: ThresholdRole;
  /** Who signs the registry index. */
  registry: KeyRole;
  /** Who signs operator policies; `threshold` is the agent's `trust.operatorThreshold`. */
  operators: ThresholdRole;
  /** The edge's policy key (rollout waves); may be empty. */
  edge: KeyRole;
  /** Namespace → who signs its packages and channel statements. */
  publishers: Record<string, KeyRole>;
}

export interface RootDocument {
  schema: typeof ROOT_SCHEMA;
  /** 1 for the first root; each next root is exactly one more. */
  version: number;
  /** After this, the root verifies nothing new (a frozen device is a visible one). */
  expires: string;
  roles: RootRoles;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const MAX_KEYS = 64;
const MAX_NAMESPACES = 4096;

/** Parses a root strictly: unknown fields, empty roles, thresholds outside 1..keys and repeated keys are refused. */
export function parseRootDocument(value: unknown, context = 'root'): RootDocument {
  const bad = (path: string, what: string) =>
    new TrustError('ROOT_INVALID', `${context}${path ? ` ${path}` : ''}: ${what}`);
  const doc = object(value, '', bad);
  only(doc, ['schema', 'version', 'expires', 'roles'], '', bad);
  if (doc.schema !== ROOT_SCHEMA) throw bad('schema', `expected ${JSON.stringify(ROOT_SCHEMA)}`);
  const version = doc.version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw bad('version', 'expected an integer ≥ 1');
  }
  const expires = doc.expires;
  if (typeof expires !== 'string' || !RFC3339.test(expires) || Number.isNaN(Date.parse(expires))) {
    throw bad('expires', 'expected an RFC 3339 time such as 2027-01-31T00:00:00Z');
  }
  const roles = object(doc.roles, 'roles', bad);
  only(roles, ['root', 'registry', 'operators', 'edge', 'publishers'], 'roles', bad);
  const publishers = object(roles.publishers ?? {}, 'roles.publishers', bad);
  const namespaces = Object.keys(publishers);
  if (namespaces.length > MAX_NAMESPACES)
    throw bad('roles.publishers', `more than ${MAX_NAMESPACES} namespaces`);
  const parsedPublishers: Record<string, KeyRole> = {};
  for (const ns of namespaces) {
    if (!NAMESPACE_PATTERN.test(ns)) throw bad(`roles.publishers.${ns}`, 'not a namespace name');
    Object.defineProperty(parsedPublishers, ns, {
      value: keyRole(publishers[ns], `roles.publishers.${ns}`, 1, bad),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return {
    schema: ROOT_SCHEMA,
    version,
    expires,
    roles: {
      root: thresholdRole(roles.root, 'roles.root', bad),
      registry: keyRole(roles.registry, 'roles.registry', 1, bad),
      operators: thresholdRole(roles.operators, 'roles.operators', bad),
      edge: keyRole(roles.edge ?? { keys: [] }, 'roles.edge', 0, bad),
      publishers: parsedPublishers,
    },
  };
}

/** The publisher keys of a root as sdk/trust's TrustPolicy shape (namespace → keys). */
export function publisherKeysOf(roles: RootRoles): Record<string, TrustedKey[]> {
  const out: Record<string, TrustedKey[]> = {};
  for (const [ns, role] of Object.entries(roles.publishers)) {
    Object.defineProperty(out, ns, {
      value: role.keys,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

type Bad = (path: string, what: string) => TrustError;

function thresholdRole(value: unknown, path: string, bad: Bad): ThresholdRole {
  const role = object(value, path, bad);
  only(role, ['keys', 'threshold'], path, bad);
  const keys = keyList(role.keys, `${path}.keys`, 1, bad);
  const threshold = role.threshold;
  if (
    typeof threshold !== 'number' ||
    !Number.isInteger(threshold) ||
    threshold < 1 ||
    threshold > keys.length
  ) {
    throw bad(`${path}.threshold`, `expected an integer from 1 to ${keys.length} (the number of keys)`);
  }
  return { keys, threshold };
}

function keyRole(value: unknown, path: string, min: number, bad: Bad): KeyRole {
  const role = object(value, path, bad);
  only(role, ['keys'], path, bad);
  return { keys: keyList(role.keys, `${path}.keys`, min, bad) };
}

function keyList(value: unknown, path: string, min: number, bad: Bad): TrustedKey[] {
  if (!Array.isArray(value)) throw bad(path, 'expected a list of keys');
  if (value.length < min) throw bad(path, `needs at least ${min} key`);
  if (value.length > MAX_KEYS) throw bad(path, `more than ${MAX_KEYS} keys`);
  const keys = value.map((k, i) => {
    try {
      return parseTrustedKey(k, `${path}[${i}]`);
    } catch (err) {
      throw new TrustError('ROOT_INVALID', `root ${(err as Error).message}`, { cause: err });
    }
  });
  const ids = new Set(keys.map((k) => k.keyId));
  if (ids.size !== keys.length) throw bad(path, 'lists a key twice');
  return keys;
}

function object(value: unknown, path: string, bad: Bad): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad(path, 'expected an object');
  return value as Record<string, unknown>;
}

function only(value: Record<string, unknown>, fields: string[], path: string, bad: Bad): void {
  for (const field of Object.keys(value)) {
    if (!fields.includes(field)) throw bad(path ? `${path}.${field}` : field, 'unknown field');
  }
}
