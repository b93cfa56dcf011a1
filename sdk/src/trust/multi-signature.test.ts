// Multi-signature documents: cosigning, k-of-n counting (distinct, trusted, valid, in window), tampering per signature.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signDocument, verifyDocument } from './document-signature.js';
import { cosignDocument, verifyThreshold } from './multi-signature.js';
import { INDEX_PAYLOAD_TYPE, POLICY_PAYLOAD_TYPE } from './payload-types.js';
import { cloneBundle, envelopeOf, makeKey, NOW, trustErrorOf } from './trust-fixtures.js';

const [a, b, c] = [makeKey(), makeKey(), makeKey()];
const outsider = makeKey();
const doc = { serial: 3, expires: '2026-04-01T00:00:00Z', target: 'grp/all', programs: [] };
const keys = [a.trusted, b.trusted, c.trusted];
const one = await signDocument(POLICY_PAYLOAD_TYPE, doc, a.signing);
const two = await cosignDocument(one, POLICY_PAYLOAD_TYPE, b.signing);

describe('cosignDocument / verifyThreshold', () => {
  it('counts distinct trusted signers and returns the document', async () => {
    assert.deepEqual(await verifyThreshold(two, POLICY_PAYLOAD_TYPE, keys, 2, NOW), {
      document: doc,
      signers: [a.pair.keyId, b.pair.keyId],
    });
    const three = await cosignDocument(two, POLICY_PAYLOAD_TYPE, c.signing);
    assert.equal((await verifyThreshold(three, POLICY_PAYLOAD_TYPE, keys, 3, NOW)).signers.length, 3);
    assert.equal(envelopeOf(three).payload, envelopeOf(one).payload, 'cosigning never changes the payload');
  });

  it('keeps single-signature documents working with verifyDocument and as a 1-of-n', async () => {
    assert.deepEqual((await verifyDocument(one, POLICY_PAYLOAD_TYPE, keys, NOW)).document, doc);
    assert.deepEqual((await verifyThreshold(one, POLICY_PAYLOAD_TYPE, keys, 1, NOW)).signers, [a.pair.keyId]);
    // A cosigned document is not a single-signature one: verifyDocument still refuses it.
    assert.equal(
      (await trustErrorOf(() => verifyDocument(two, POLICY_PAYLOAD_TYPE, keys, NOW))).code,
      'BUNDLE_INVALID',
    );
  });

  it('refuses k-1 signatures with THRESHOLD_NOT_MET naming have, need and who signed', async () => {
    const err = await trustErrorOf(() => verifyThreshold(two, POLICY_PAYLOAD_TYPE, keys, 3, NOW));
    assert.equal(err.code, 'THRESHOLD_NOT_MET');
    assert.match(err.message, /have 2, need 3/);
    assert.ok(err.message.includes(a.pair.keyId) && err.message.includes(b.pair.keyId));
  });

  it('ignores unknown signers and counts a repeated signature once', async () => {
    const withOutsider = await cosignDocument(one, POLICY_PAYLOAD_TYPE, outsider.signing);
    const err = await trustErrorOf(() => verifyThreshold(withOutsider, POLICY_PAYLOAD_TYPE, keys, 2, NOW));
    assert.equal(err.code, 'THRESHOLD_NOT_MET');
    assert.match(err.message, /have 1, need 2/);
    const repeated = cloneBundle(one);
    const envelope = envelopeOf(repeated);
    envelope.signatures.push({ ...envelope.signatures[0]! });
    const err2 = await trustErrorOf(() => verifyThreshold(repeated, POLICY_PAYLOAD_TYPE, keys, 2, NOW));
    assert.match(err2.message, /have 1, need 2/);
  });

  it('refuses to cosign twice with the same key (ALREADY_SIGNED)', async () => {
    assert.equal(
      (await trustErrorOf(() => cosignDocument(two, POLICY_PAYLOAD_TYPE, b.signing))).code,
      'ALREADY_SIGNED',
    );
  });

  it('does not count a tampered signature, a key outside its window, or a relabelled keyid', async () => {
    const tampered = cloneBundle(two);
    const sig = Buffer.from(envelopeOf(tampered).signatures[1]!.sig, 'base64');
    sig[sig.length - 1] = (sig[sig.length - 1] ?? 0) ^ 1;
    envelopeOf(tampered).signatures[1]!.sig = sig.toString('base64');
    const err = await trustErrorOf(() => verifyThreshold(tampered, POLICY_PAYLOAD_TYPE, keys, 2, NOW));
    assert.equal(err.code, 'THRESHOLD_NOT_MET');
    assert.match(err.message, /not counted: sha256:[0-9a-f]+ \(/);

    const expiredB = { ...b.trusted, validUntil: '2026-01-01T00:00:00Z' };
    const err2 = await trustErrorOf(() =>
      verifyThreshold(two, POLICY_PAYLOAD_TYPE, [a.trusted, expiredB], 2, NOW),
    );
    assert.match(err2.message, /KEY_EXPIRED/);

    // b's signature relabelled as c's: verified against c's key, it fails and is not counted.
    const relabelled = cloneBundle(two);
    envelopeOf(relabelled).signatures[1]!.keyid = c.pair.keyId;
    assert.equal(
      (await trustErrorOf(() => verifyThreshold(relabelled, POLICY_PAYLOAD_TYPE, keys, 2, NOW))).code,
      'THRESHOLD_NOT_MET',
    );
  });

  it('refuses another payload type, a changed payload and a bad threshold', async () => {
    assert.equal(
      (await trustErrorOf(() => verifyThreshold(two, INDEX_PAYLOAD_TYPE, keys, 1, NOW))).code,
      'PAYLOAD_TYPE_MISMATCH',
    );
    const changed = cloneBundle(two);
    envelopeOf(changed).payload = Buffer.from(JSON.stringify({ ...doc, serial: 4 })).toString('base64');
    assert.equal(
      (await trustErrorOf(() => verifyThreshold(changed, POLICY_PAYLOAD_TYPE, keys, 1, NOW))).code,
      'THRESHOLD_NOT_MET',
    );
    assert.equal(
      (await trustErrorOf(() => verifyThreshold(two, POLICY_PAYLOAD_TYPE, keys, 0, NOW))).code,
      'THRESHOLD_INVALID',
    );
  });
});
