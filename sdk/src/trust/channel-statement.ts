// Publisher statements about distribution (channel moves, yanks, unyanks): signed documents under their own type.
import type { SerializedBundle } from '@sigstore/bundle';
import semver from 'semver';
import { TrustError } from '../errors.js';
import { signDocument, verifyDocument } from './document-signature.js';
import type { SigningKey } from './keys.js';
import { CHANNEL_PAYLOAD_TYPE } from './payload-types.js';
import type { TrustedKey } from './trust-policy.js';

export const CHANNEL_STATEMENT_SCHEMA = 'bpfleet.channel-statement/v1';

export type ChannelAction = 'move' | 'yank' | 'unyank';

export interface ChannelStatement {
  schema: typeof CHANNEL_STATEMENT_SCHEMA;
  /** `namespace/name`. */
  package: string;
  action: ChannelAction;
  /** The channel moved (moves only). */
  channel?: string;
  version: string;
  /** Grows per stream (one channel, or one version's yank state): an older statement is a replay. */
  serial: number;
  issuedAt: string;
  /** A move to a version below the channel's previous one is refused unless the publisher says why. */
  rollback?: { reason: string };
  /** Why a version is yanked (yanks only). */
  reason?: string;
}

export interface VerifiedChannelStatement {
  statement: ChannelStatement;
  keyId: string;
}

const PACKAGE = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\/[a-z0-9][a-z0-9._-]{0,127}$/;
const CHANNEL = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const FIELDS = new Set([
  'schema',
  'package',
  'action',
  'channel',
  'version',
  'serial',
  'issuedAt',
  'rollback',
  'reason',
]);

/** The serial stream a statement belongs to: `channel:<name>` for moves, `version:<v>` for yank state. */
export function statementStream(s: Pick<ChannelStatement, 'action' | 'channel' | 'version'>): string {
  return s.action === 'move' ? `channel:${s.channel}` : `version:${s.version}`;
}

/** Checks the shape strictly: unknown fields, a move without a channel or a yank with a rollback are refused. */
export function parseChannelStatement(value: unknown, context = 'channel statement'): ChannelStatement {
  const bad = (what: string) => new TrustError('STATEMENT_INVALID', `${context}: ${what}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('expected an object');
  const s = value as Record<string, unknown>;
  for (const field of Object.keys(s)) if (!FIELDS.has(field)) throw bad(`unknown field ${field}`);
  if (s.schema !== CHANNEL_STATEMENT_SCHEMA) throw bad(`schema must be ${CHANNEL_STATEMENT_SCHEMA}`);
  if (typeof s.package !== 'string' || !PACKAGE.test(s.package)) throw bad('package must be namespace/name');
  if (s.action !== 'move' && s.action !== 'yank' && s.action !== 'unyank')
    throw bad('action must be move, yank or unyank');
  if (typeof s.version !== 'string' || semver.valid(s.version) !== s.version)
    throw bad('version must be a semver version');
  if (!Number.isSafeInteger(s.serial) || (s.serial as number) < 1)
    throw bad('serial must be a positive integer');
  if (typeof s.issuedAt !== 'string' || Number.isNaN(Date.parse(s.issuedAt)))
    throw bad('issuedAt must be a time');
  if (s.action === 'move') {
    if (typeof s.channel !== 'string' || !CHANNEL.test(s.channel)) throw bad('a move names its channel');
    if (s.reason !== undefined) throw bad('a move has no yank reason');
    if (s.rollback !== undefined) {
      const r = s.rollback as Record<string, unknown>;
      if (
        typeof r !== 'object' ||
        r === null ||
        Object.keys(r).some((k) => k !== 'reason') ||
        typeof r.reason !== 'string' ||
        r.reason.trim().length === 0 ||
        r.reason.length > 500
      )
        throw bad('rollback must be { reason } with a non-empty reason');
    }
  } else {
    if (s.channel !== undefined || s.rollback !== undefined)
      throw bad(`a ${s.action} names no channel or rollback`);
    if (s.reason !== undefined && (typeof s.reason !== 'string' || s.reason.length > 500))
      throw bad('reason must be a string of at most 500 characters');
  }
  return s as unknown as ChannelStatement;
}

export async function signChannelStatement(
  statement: ChannelStatement,
  key: SigningKey,
): Promise<SerializedBundle> {
  return signDocument(CHANNEL_PAYLOAD_TYPE, parseChannelStatement(statement, 'sign channel statement'), key);
}

/**
 * Verifies a statement bundle against the keys trusted for the package's namespace, and that it is about
 * `expectedPackage` (a statement for another package never stands in for this one).
 */
export async function verifyChannelStatement(
  bundle: unknown,
  expectedPackage: string,
  publisherKeys: readonly TrustedKey[],
  now: Date = new Date(),
): Promise<VerifiedChannelStatement> {
  const context = `channel statement for ${expectedPackage}`;
  if (publisherKeys.length === 0)
    throw new TrustError('KEY_UNKNOWN', `${context}: no publisher key is trusted for its namespace`);
  const { document, keyId } = await verifyDocument(bundle, CHANNEL_PAYLOAD_TYPE, publisherKeys, now);
  const statement = parseChannelStatement(document, context);
  if (statement.package !== expectedPackage)
    throw new TrustError('STATEMENT_MISMATCH', `${context}: signed for ${statement.package}`);
  return { statement, keyId };
}
