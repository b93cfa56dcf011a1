// Trust policy: which publisher keys are trusted for which namespace, and when; parsed strictly from config JSON.
import { TrustError } from '../errors.js';
import { isObject } from '../is-object.js';
import { keyIdOf } from './keys.js';

/** A public key that may sign, with an optional validity window (RFC 3339 times, `validFrom` ≤ now < `validUntil`). */
export interface TrustedKey {
  keyId: string;
  publicKeyPem: string;
  validFrom?: string;
  validUntil?: string;
}

/** Namespace (`acme` in `acme/xdp-fw`) → the keys trusted to sign its packages. */
export interface TrustPolicy {
  publishers: Record<string, TrustedKey[]>;
}

export const NAMESPACE_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const KEY_FIELDS = new Set(['keyId', 'publicKeyPem', 'validFrom', 'validUntil']);

/** Parses a trust policy (JSON text or an already parsed value); every defect has its own code and path. */
export function parseTrustPolicy(json: unknown): TrustPolicy {
  const value = typeof json === 'string' ? parseJsonText(json) : json;
  if (!isObject(value)) throw policyError('TRUST_POLICY_INVALID', '', 'expected an object');
  for (const field of Object.keys(value)) {
    if (field !== 'publishers') throw policyError('TRUST_POLICY_UNKNOWN_FIELD', field, 'unknown field');
  }
  const publishers = value.publishers;
  if (!isObject(publishers)) {
    throw policyError('TRUST_POLICY_INVALID', 'publishers', 'expected an object of namespace → keys');
  }
  const result: Record<string, TrustedKey[]> = {};
  for (const [namespace, keys] of Object.entries(publishers)) {
    const path = `publishers.${namespace}`;
    if (!NAMESPACE_PATTERN.test(namespace)) {
      throw policyError(
        'TRUST_POLICY_NAMESPACE_INVALID',
        path,
        'a namespace is 1-64 lowercase letters, digits and inner dashes',
      );
    }
    if (!Array.isArray(keys)) throw policyError('TRUST_POLICY_INVALID', path, 'expected an array of keys');
    const parsed = keys.map((key, i) => parseTrustedKey(key, `${path}[${i}]`));
    const seen = new Set<string>();
    for (const [i, key] of parsed.entries()) {
      if (seen.has(key.keyId)) {
        throw policyError('TRUST_POLICY_DUPLICATE_KEY', `${path}[${i}]`, `key ${key.keyId} is listed twice`);
      }
      seen.add(key.keyId);
    }
    Object.defineProperty(result, namespace, {
      value: parsed,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { publishers: result };
}

/** Parses one trusted key; also used for registry and operator key lists. The key id must match the key. */
export function parseTrustedKey(value: unknown, path = 'key'): TrustedKey {
  if (!isObject(value)) throw policyError('TRUST_POLICY_INVALID', path, 'expected a key object');
  for (const field of Object.keys(value)) {
    if (!KEY_FIELDS.has(field))
      throw policyError('TRUST_POLICY_UNKNOWN_FIELD', `${path}.${field}`, 'unknown field');
  }
  const { keyId, publicKeyPem, validFrom, validUntil } = value;
  if (typeof publicKeyPem !== 'string') {
    throw policyError('TRUST_POLICY_INVALID', `${path}.publicKeyPem`, 'expected a PEM string');
  }
  if (typeof keyId !== 'string')
    throw policyError('TRUST_POLICY_INVALID', `${path}.keyId`, 'expected a string');
  let actualId: string;
  try {
    actualId = keyIdOf(publicKeyPem, `trust policy ${path}.publicKeyPem`);
  } catch (err) {
    if (err instanceof TrustError) {
      throw new TrustError(`TRUST_POLICY_${err.code}`, err.message, { cause: err });
    }
    throw err;
  }
  if (keyId !== actualId) {
    throw policyError(
      'TRUST_POLICY_KEY_ID_MISMATCH',
      `${path}.keyId`,
      `${JSON.stringify(keyId)} is not the id of the key, which is ${actualId}`,
    );
  }
  const key: TrustedKey = { keyId, publicKeyPem };
  if (validFrom !== undefined) key.validFrom = parseTime(validFrom, `${path}.validFrom`);
  if (validUntil !== undefined) key.validUntil = parseTime(validUntil, `${path}.validUntil`);
  if (key.validFrom !== undefined && key.validUntil !== undefined) {
    if (Date.parse(key.validFrom) >= Date.parse(key.validUntil)) {
      throw policyError(
        'TRUST_POLICY_WINDOW_EMPTY',
        path,
        `validFrom ${key.validFrom} is not before validUntil ${key.validUntil}`,
      );
    }
  }
  return key;
}

/** The keys a policy trusts for a namespace (none when the namespace is absent). */
export function keysForNamespace(policy: TrustPolicy, namespace: string): TrustedKey[] {
  return Object.hasOwn(policy.publishers, namespace) ? (policy.publishers[namespace] ?? []) : [];
}

/** Throws KEY_NOT_YET_VALID / KEY_EXPIRED when `now` is outside the key's window. */
export function assertKeyInWindow(key: TrustedKey, now: Date, context: string): void {
  if (key.validFrom !== undefined && now.getTime() < Date.parse(key.validFrom)) {
    throw new TrustError(
      'KEY_NOT_YET_VALID',
      `${context}: key ${key.keyId} is valid from ${key.validFrom}, it is ${now.toISOString()}`,
    );
  }
  if (key.validUntil !== undefined && now.getTime() >= Date.parse(key.validUntil)) {
    throw new TrustError(
      'KEY_EXPIRED',
      `${context}: key ${key.keyId} expired at ${key.validUntil}, it is ${now.toISOString()}`,
    );
  }
}

function parseTime(value: unknown, path: string): string {
  if (typeof value !== 'string' || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
    throw policyError(
      'TRUST_POLICY_TIME_INVALID',
      path,
      'expected an RFC 3339 time such as 2026-01-31T00:00:00Z',
    );
  }
  return value;
}

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TrustError('TRUST_POLICY_INVALID', `trust policy: not JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function policyError(code: string, path: string, message: string): TrustError {
  return new TrustError(code, path ? `trust policy ${path}: ${message}` : `trust policy: ${message}`);
}
