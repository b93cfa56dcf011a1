// Signed documents (index, policy): round trip, exact payload type, keys and windows, tampering of every byte.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signDocument, verifyDocument } from './document-signature.js';
import { signPayload } from './key-signer.js';
import { signPackage } from './package-signature.js';
import { INDEX_PAYLOAD_TYPE, POLICY_PAYLOAD_TYPE } from './payload-types.js';
import {
  byteLength,
  cloneBundle,
  envelopeOf,
  flipByte,
  makeKey,
  makeSubject,
  NOW,
  trustErrorOf,
} from './trust-fixtures.js';

const operator = makeKey();
const registry = makeKey();
const policyDoc = {
  serial: 7,
  expires: '2026-04-01T00:00:00Z',
  target: 'dev/gw-1',
  programs: [{ name: 'acme/xdp-fw' }],
};
const policyBundle = await signDocument(POLICY_PAYLOAD_TYPE, policyDoc, operator.signing);

describe('signDocument / verifyDocument', () => {
  it('round-trips a policy and an index', async () => {
    const result = await verifyDocument(
      policyBundle,
      POLICY_PAYLOAD_TYPE,
      [registry.trusted, operator.trusted],
      NOW,
    );
    assert.deepEqual(result, { document: policyDoc, keyId: operator.pair.keyId });
    const index = { serial: 1, packages: { 'acme/xdp-fw': { '1.2.0': { digest: 'sha256:00', size: 1 } } } };
    const indexBundle = await signDocument(INDEX_PAYLOAD_TYPE, index, registry.signing);
    assert.deepEqual(
      (await verifyDocument(indexBundle, INDEX_PAYLOAD_TYPE, [registry.trusted], NOW)).document,
      index,
    );
  });

  it('never lets one kind pass as another (PAYLOAD_TYPE_MISMATCH)', async () => {
    // The same key signs both kinds here, so only the payload type tells them apart.
    const indexBundle = await signDocument(INDEX_PAYLOAD_TYPE, policyDoc, operator.signing);
    const keys = [operator.trusted];
    assert.equal(
      (await trustErrorOf(() => verifyDocument(indexBundle, POLICY_PAYLOAD_TYPE, keys, NOW))).code,
      'PAYLOAD_TYPE_MISMATCH',
    );
    assert.equal(
      (await trustErrorOf(() => verifyDocument(policyBundle, INDEX_PAYLOAD_TYPE, keys, NOW))).code,
      'PAYLOAD_TYPE_MISMATCH',
    );
    const packageBundle = await signPackage(makeSubject(), operator.signing);
    for (const type of [POLICY_PAYLOAD_TYPE, INDEX_PAYLOAD_TYPE]) {
      const err = await trustErrorOf(() => verifyDocument(packageBundle, type, keys, NOW));
      assert.equal(err.code, 'PAYLOAD_TYPE_MISMATCH');
      assert.match(
        err.message,
        /^verify application\/vnd\.bpfleet\.(policy|index)\.v1\+json document: payload type is "application\/vnd\.in-toto\+json"/,
      );
    }
  });

  it('fails SIGNATURE_INVALID for any changed byte of payload or signature', async () => {
    const keys = [operator.trusted];
    for (const field of ['payload', 'sig'] as const) {
      for (let i = 0; i < byteLength(policyBundle, field); i++) {
        const err = await trustErrorOf(() =>
          verifyDocument(flipByte(policyBundle, field, i, 0x04), POLICY_PAYLOAD_TYPE, keys, NOW),
        );
        assert.equal(err.code, 'SIGNATURE_INVALID', `${field} byte ${i}`);
      }
    }
  });

  it('rejects unknown keys, keys outside their window and keyid ≠ hint', async () => {
    assert.equal(
      (await trustErrorOf(() => verifyDocument(policyBundle, POLICY_PAYLOAD_TYPE, [registry.trusted], NOW)))
        .code,
      'KEY_UNKNOWN',
    );
    assert.equal(
      (await trustErrorOf(() => verifyDocument(policyBundle, POLICY_PAYLOAD_TYPE, [], NOW))).code,
      'KEY_UNKNOWN',
    );
    const expired = { ...operator.trusted, validUntil: '2026-03-01T12:00:00Z' };
    assert.equal(
      (await trustErrorOf(() => verifyDocument(policyBundle, POLICY_PAYLOAD_TYPE, [expired], NOW))).code,
      'KEY_EXPIRED',
    );
    const future = { ...operator.trusted, validFrom: '2026-03-01T12:00:00.001Z' };
    assert.equal(
      (await trustErrorOf(() => verifyDocument(policyBundle, POLICY_PAYLOAD_TYPE, [future], NOW))).code,
      'KEY_NOT_YET_VALID',
    );
    const changed = cloneBundle(policyBundle);
    envelopeOf(changed).signatures[0]!.keyid = registry.pair.keyId;
    assert.equal(
      (await trustErrorOf(() => verifyDocument(changed, POLICY_PAYLOAD_TYPE, [operator.trusted], NOW))).code,
      'KEYID_MISMATCH',
    );
  });

  it('refuses what is not a JSON object or array (DOCUMENT_INVALID)', async () => {
    const bigint = { n: 1n } as object;
    assert.equal(
      (await trustErrorOf(() => signDocument(POLICY_PAYLOAD_TYPE, bigint, operator.signing))).code,
      'DOCUMENT_INVALID',
    );
    assert.equal(
      (await trustErrorOf(() => signDocument(POLICY_PAYLOAD_TYPE, 5 as unknown as object, operator.signing)))
        .code,
      'DOCUMENT_INVALID',
    );
    assert.equal(
      (await trustErrorOf(() => signDocument('', {}, operator.signing))).code,
      'PAYLOAD_TYPE_INVALID',
    );
    const empty = await trustErrorOf(() =>
      signPayload(POLICY_PAYLOAD_TYPE, Buffer.alloc(0), operator.signing),
    );
    assert.equal(empty.code, 'PAYLOAD_EMPTY');
    for (const payload of ['42', 'not json', '\u00ff']) {
      const signed = await signPayload(
        POLICY_PAYLOAD_TYPE,
        Buffer.from(payload, payload === '\u00ff' ? 'latin1' : 'utf8'),
        operator.signing,
      );
      const err = await trustErrorOf(() =>
        verifyDocument(signed, POLICY_PAYLOAD_TYPE, [operator.trusted], NOW),
      );
      assert.equal(err.code, 'DOCUMENT_INVALID', payload);
    }
  });
});
