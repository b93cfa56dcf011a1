// Channel statements: round trip, their own payload type, the package bound in, strict shape.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ChannelStatement,
  signChannelStatement,
  statementStream,
  verifyChannelStatement,
} from './channel-statement.js';
import { signDocument } from './document-signature.js';
import { INDEX_PAYLOAD_TYPE } from './payload-types.js';
import { makeKey, NOW, trustErrorOf } from './trust-fixtures.js';

const publisher = makeKey();
const other = makeKey();
const move: ChannelStatement = {
  schema: 'bpfleet.channel-statement/v1',
  package: 'acme/xdp-fw',
  action: 'move',
  channel: 'stable',
  version: '1.2.0',
  serial: 3,
  issuedAt: NOW.toISOString(),
};

describe('channel statements', () => {
  it('round-trips a move signed by a trusted publisher key', async () => {
    const bundle = await signChannelStatement(move, publisher.signing);
    const verified = await verifyChannelStatement(bundle, 'acme/xdp-fw', [publisher.trusted], NOW);
    assert.deepEqual(verified, { statement: move, keyId: publisher.pair.keyId });
    assert.equal(statementStream(move), 'channel:stable');
    assert.equal(statementStream({ action: 'yank', version: '1.0.0' }), 'version:1.0.0');
  });

  it('refuses an untrusted key, another package, and another payload type', async () => {
    const bundle = await signChannelStatement(move, other.signing);
    assert.equal(
      (await trustErrorOf(() => verifyChannelStatement(bundle, 'acme/xdp-fw', [publisher.trusted], NOW)))
        .code,
      'KEY_UNKNOWN',
    );
    const mine = await signChannelStatement(move, publisher.signing);
    assert.equal(
      (await trustErrorOf(() => verifyChannelStatement(mine, 'acme/other', [publisher.trusted], NOW))).code,
      'STATEMENT_MISMATCH',
    );
    const asIndex = await signDocument(INDEX_PAYLOAD_TYPE, move, publisher.signing);
    await assert.rejects(verifyChannelStatement(asIndex, 'acme/xdp-fw', [publisher.trusted], NOW));
    assert.equal(
      (await trustErrorOf(() => verifyChannelStatement(mine, 'acme/xdp-fw', [], NOW))).code,
      'KEY_UNKNOWN',
    );
  });

  it('refuses malformed statements before signing', async () => {
    const cases: Array<Record<string, unknown>> = [
      { ...move, channel: undefined },
      { ...move, rollback: { reason: '' } },
      { ...move, action: 'yank' },
      { ...move, version: '1.2' },
      { ...move, serial: 0 },
      { ...move, extra: true },
    ];
    for (const c of cases) {
      const err = await trustErrorOf(() =>
        signChannelStatement(JSON.parse(JSON.stringify(c)) as ChannelStatement, publisher.signing),
      );
      assert.equal(err.code, 'STATEMENT_INVALID', JSON.stringify(c));
    }
  });
});
