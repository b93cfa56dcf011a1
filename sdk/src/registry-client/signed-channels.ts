// Channel moves, yanks and unyanks as publisher statements: the next serial of the stream, signed, then sent.
import { RegistryError } from '../errors.js';
import {
  type ChannelStatement,
  type SerializedBundle,
  type SigningKey,
  signChannelStatement,
  statementStream,
} from '../trust/index.js';
import type { RegistryClient } from './registry-client.js';
import type { VersionInfo } from './types.js';

export interface ChannelChange {
  namespace: string;
  name: string;
  action: ChannelStatement['action'];
  version: string;
  channel?: string;
  /** A move to a version below the channel's current one needs this. */
  rollbackReason?: string;
  /** Why a version is yanked. */
  reason?: string;
}

/** Signs `change` with the serial after the one the registry holds for its stream. */
export async function signChannelChange(
  client: RegistryClient,
  key: SigningKey,
  change: ChannelChange,
  now: Date = new Date(),
): Promise<SerializedBundle> {
  const pkg = `${change.namespace}/${change.name}`;
  const stream = statementStream(change);
  const stored = await client.listStatements(change.namespace, change.name);
  const last = stored.find((s) => s.stream === stream)?.serial ?? 0;
  if (change.action === 'move' && change.channel === undefined)
    throw new RegistryError('INVALID_PACKAGE_REF', `move ${pkg}: name a channel`);
  const statement: ChannelStatement = {
    schema: 'bpfleet.channel-statement/v1',
    package: pkg,
    action: change.action,
    version: change.version,
    serial: last + 1,
    issuedAt: now.toISOString(),
  };
  if (change.channel !== undefined) statement.channel = change.channel;
  if (change.rollbackReason !== undefined) statement.rollback = { reason: change.rollbackReason };
  if (change.reason !== undefined) statement.reason = change.reason;
  return signChannelStatement(statement, key);
}

/** `channel set`: a signed move. */
export async function moveChannel(
  client: RegistryClient,
  key: SigningKey,
  pkg: { namespace: string; name: string },
  channel: string,
  version: string,
  rollbackReason?: string,
): Promise<Record<string, string>> {
  const change = { ...pkg, action: 'move' as const, channel, version, rollbackReason };
  return client.setChannel(pkg.namespace, pkg.name, channel, await signChannelChange(client, key, change));
}

/** `yank` / `yank --undo`: a signed yank or unyank. */
export async function setYankSigned(
  client: RegistryClient,
  key: SigningKey,
  pkg: { namespace: string; name: string },
  version: string,
  yank: { undo?: boolean; reason?: string },
): Promise<VersionInfo> {
  const action = yank.undo ? ('unyank' as const) : ('yank' as const);
  const reason = yank.undo ? undefined : yank.reason;
  const statement = await signChannelChange(client, key, { ...pkg, action, version, reason });
  return yank.undo
    ? client.unyank(pkg.namespace, pkg.name, version, statement)
    : client.yank(pkg.namespace, pkg.name, version, { statement });
}
