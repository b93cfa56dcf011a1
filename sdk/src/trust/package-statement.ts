// Strict parsing of a package's in-toto statement: exact shape, exact types, no extra fields.
import { isDigest } from '../digest.js';
import { TrustError } from '../errors.js';
import { quote } from './bundle-verifier.js';
import { IN_TOTO_STATEMENT_TYPE, PACKAGE_PREDICATE_TYPE } from './payload-types.js';

const HEX64 = /^[0-9a-f]{64}$/;

export interface PackageStatement {
  _type: typeof IN_TOTO_STATEMENT_TYPE;
  subject: [{ name: string; digest: { sha256: string } }];
  predicateType: typeof PACKAGE_PREDICATE_TYPE;
  predicate: { manifestDigest: string; name: string; version: string };
}

export function parsePackageStatement(payload: Buffer, context: string): PackageStatement {
  const fail = (message: string, cause?: unknown): TrustError =>
    new TrustError(
      'STATEMENT_INVALID',
      `${context}: bad statement: ${message}`,
      cause === undefined ? undefined : { cause },
    );
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (err) {
    throw fail('payload is not UTF-8 JSON', err);
  }
  const statement = exactObject(value, ['_type', 'subject', 'predicateType', 'predicate'], fail, '');
  if (statement._type !== IN_TOTO_STATEMENT_TYPE) {
    throw fail(`_type is ${quote(statement._type)}, expected ${quote(IN_TOTO_STATEMENT_TYPE)}`);
  }
  if (statement.predicateType !== PACKAGE_PREDICATE_TYPE) {
    throw fail(
      `predicateType is ${quote(statement.predicateType)}, expected ${quote(PACKAGE_PREDICATE_TYPE)}`,
    );
  }
  if (!Array.isArray(statement.subject) || statement.subject.length !== 1) {
    throw fail('subject must list exactly one package');
  }
  const subject = exactObject(statement.subject[0], ['name', 'digest'], fail, 'subject[0]');
  const digest = exactObject(subject.digest, ['sha256'], fail, 'subject[0].digest');
  if (typeof subject.name !== 'string') throw fail('subject[0].name is not a string');
  if (typeof digest.sha256 !== 'string' || !HEX64.test(digest.sha256)) {
    throw fail('subject[0].digest.sha256 is not 64 lowercase hex digits');
  }
  const predicate = exactObject(
    statement.predicate,
    ['manifestDigest', 'name', 'version'],
    fail,
    'predicate',
  );
  if (!isDigest(predicate.manifestDigest)) throw fail('predicate.manifestDigest is not sha256:<hex>');
  if (typeof predicate.name !== 'string' || typeof predicate.version !== 'string') {
    throw fail('predicate.name and predicate.version must be strings');
  }
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [{ name: subject.name, digest: { sha256: digest.sha256 } }],
    predicateType: PACKAGE_PREDICATE_TYPE,
    predicate: { manifestDigest: predicate.manifestDigest, name: predicate.name, version: predicate.version },
  };
}

function exactObject(
  value: unknown,
  fields: string[],
  fail: (message: string) => TrustError,
  path: string,
): Record<string, unknown> {
  const where = path || 'statement';
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw fail(`${where} is not an object`);
  const keys = Object.keys(value);
  for (const key of keys) if (!fields.includes(key)) throw fail(`${where} has unknown field ${quote(key)}`);
  for (const field of fields) if (!keys.includes(field)) throw fail(`${where} lacks ${field}`);
  return value as Record<string, unknown>;
}
