// A publisher statement (channel move, yank, unyank) checked against the namespace's keys and the catalog, then stored.
import { type ChannelStatement, statementStream, verifyChannelStatement } from '@bpfleet/sdk/trust';
import semver from 'semver';
import type { AppDeps } from '../app-deps.js';
import type { StatementEffect } from '../catalog/catalog.js';
import { httpError } from '../http-errors.js';
import { trustedPublisherKeys } from '../root/root-publishers.js';

export interface StatementTarget {
  namespace: string;
  name: string;
  action: ChannelStatement['action'];
  version?: string;
  channel?: string;
}

/** What the route path says must match what the publisher signed; a statement is never reinterpreted. */
export async function applyStatement(
  deps: Pick<AppDeps, 'catalog' | 'clock'>,
  target: StatementTarget,
  bundle: unknown,
): Promise<ChannelStatement> {
  const { catalog, clock } = deps;
  const pkg = `${target.namespace}/${target.name}`;
  const what = `${target.action} ${pkg}${target.channel ? `#${target.channel}` : ''}`;
  // Said first: a misspelled package name is the likely mistake, not a missing version of it.
  if (!(await catalog.getPackage(target.namespace, target.name)))
    throw httpError('PACKAGE_NOT_FOUND', `${what}: no package ${pkg} in this registry; check the name`);
  // Narrowed by the published root of trust, when there is one.
  const keys = await trustedPublisherKeys(catalog, target.namespace);
  if (keys.length === 0)
    throw httpError('NO_PUBLISHER_KEYS', `${what}: namespace ${target.namespace} has no publisher keys`);
  const trusted = keys.map((k) => ({ keyId: k.keyId, publicKeyPem: k.publicKeyPem }));
  const { statement } = await verifyChannelStatement(bundle, pkg, trusted, clock.now());
  const mismatch = (field: string, signed: unknown, wanted: unknown) =>
    httpError(
      'STATEMENT_MISMATCH',
      `${what}: the statement's ${field} is ${signed}, the request's ${wanted}`,
    );
  if (statement.action !== target.action) throw mismatch('action', statement.action, target.action);
  if (target.channel !== undefined && statement.channel !== target.channel)
    throw mismatch('channel', statement.channel, target.channel);
  if (target.version !== undefined && statement.version !== target.version)
    throw mismatch('version', statement.version, target.version);
  const v = await catalog.getVersion(target.namespace, target.name, statement.version);
  if (!v) throw httpError('VERSION_NOT_FOUND', `${what}: version ${statement.version} not found`);
  let effect: StatementEffect;
  if (statement.action === 'move') {
    if (v.yanked) throw httpError('VERSION_YANKED', `${what}: version ${statement.version} is yanked`);
    const current = (await catalog.listChannels(target.namespace, target.name)).find(
      (c) => c.channel === statement.channel,
    );
    if (current && semver.lt(statement.version, current.version) && !statement.rollback) {
      throw httpError(
        'CHANNEL_DOWNGRADE',
        `${what}: ${statement.version} is below ${current.version}; a move down needs a signed rollback reason`,
      );
    }
    effect = { kind: 'channel', channel: statement.channel!, version: statement.version };
  } else {
    effect = {
      kind: 'yank',
      version: statement.version,
      reason: statement.action === 'yank' ? (statement.reason ?? 'yanked by the publisher') : null,
    };
  }
  const stored = {
    stream: statementStream(statement),
    serial: statement.serial,
    body: JSON.stringify(bundle),
  };
  if (!(await catalog.applyStatement(target.namespace, target.name, stored, effect, clock.now()))) {
    throw httpError(
      'STATEMENT_STALE',
      `${what}: serial ${statement.serial} is not above the one stored for ${stored.stream} (a replay?)`,
    );
  }
  return statement;
}
