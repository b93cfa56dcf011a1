// Package signatures: round trip, tampering of every byte, payload types, key trust per namespace and window.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256Digest } from '../digest.js';
import { signDocument } from './document-signature.js';
import { signPayload } from './key-signer.js';
import { signPackage, verifyPackage } from './package-signature.js';
import { INDEX_PAYLOAD_TYPE, PACKAGE_PAYLOAD_TYPE, POLICY_PAYLOAD_TYPE } from './payload-types.js';
import {
  byteLength,
  cloneBundle,
  envelopeOf,
  flipByte,
  makeKey,
  makeSubject,
  NOW,
  policyOf,
  trustErrorOf,
} from './trust-fixtures.js';

const publisher = makeKey();
const subject = makeSubject();
const policy = policyOf({ acme: [publisher] });
const bundle = await signPackage(subject, publisher.signing);

describe('signPackage / verifyPackage', () => {
  it('round-trips and returns the signer and the statement', async () => {
    assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.equal(envelopeOf(bundle).payloadType, PACKAGE_PAYLOAD_TYPE);
    assert.equal(bundle.verificationMaterial.publicKey?.hint, publisher.pair.keyId);
    const result = await verifyPackage(bundle, subject, policy, NOW);
    assert.equal(result.keyId, publisher.pair.keyId);
    assert.deepEqual(result.statement, {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'acme/xdp-fw@1.2.0', digest: { sha256: subject.digest.slice(7) } }],
      predicateType: 'https://bpfleet.dev/package/v1',
      predicate: { manifestDigest: subject.manifestDigest, name: 'acme/xdp-fw', version: '1.2.0' },
    });
  });

  it('verifies without the manifest digest, and from JSON text or bytes', async () => {
    const { manifestDigest: _, ...expected } = subject;
    assert.equal((await verifyPackage(bundle, expected, policy, NOW)).keyId, publisher.pair.keyId);
    const text = JSON.stringify(bundle);
    assert.equal((await verifyPackage(text, subject, policy, NOW)).keyId, publisher.pair.keyId);
    assert.equal((await verifyPackage(Buffer.from(text), subject, policy, NOW)).keyId, publisher.pair.keyId);
  });

  it('fails SIGNATURE_INVALID when any byte of the signed payload changes', async () => {
    const length = byteLength(bundle, 'payload');
    assert.ok(length > 300);
    for (let i = 0; i < length; i++) {
      for (const mask of [0x01, 0x80]) {
        const err = await trustErrorOf(() =>
          verifyPackage(flipByte(bundle, 'payload', i, mask), subject, policy, NOW),
        );
        assert.equal(err.code, 'SIGNATURE_INVALID', `payload byte ${i} mask ${mask}`);
      }
    }
  });

  it('fails SIGNATURE_INVALID when any byte of the envelope signature changes', async () => {
    const length = byteLength(bundle, 'sig');
    assert.ok(length >= 64);
    for (let i = 0; i < length; i++) {
      for (const mask of [0x01, 0x80]) {
        const err = await trustErrorOf(() =>
          verifyPackage(flipByte(bundle, 'sig', i, mask), subject, policy, NOW),
        );
        assert.equal(err.code, 'SIGNATURE_INVALID', `signature byte ${i} mask ${mask}`);
      }
    }
  });

  it('fails PAYLOAD_TYPE_MISMATCH when any character of the payload type changes', async () => {
    const type = PACKAGE_PAYLOAD_TYPE;
    for (let i = 0; i < type.length; i++) {
      const copy = cloneBundle(bundle);
      const replacement = type[i] === 'x' ? 'y' : 'x';
      envelopeOf(copy).payloadType = `${type.slice(0, i)}${replacement}${type.slice(i + 1)}`;
      const err = await trustErrorOf(() => verifyPackage(copy, subject, policy, NOW));
      assert.equal(err.code, 'PAYLOAD_TYPE_MISMATCH', `payload type char ${i}`);
      assert.match(err.message, /^verify acme\/xdp-fw@1\.2\.0: payload type is /);
    }
  });

  it('fails DIGEST_MISMATCH when any hex digit of the expected archive digest differs', async () => {
    for (let i = 'sha256:'.length; i < subject.digest.length; i++) {
      const digit = subject.digest[i] === '0' ? '1' : '0';
      const digest = `${subject.digest.slice(0, i)}${digit}${subject.digest.slice(i + 1)}`;
      const err = await trustErrorOf(() => verifyPackage(bundle, { ...subject, digest }, policy, NOW));
      assert.equal(err.code, 'DIGEST_MISMATCH', `digest position ${i}`);
      assert.match(err.message, /digest mismatch: expected sha256:[0-9a-f]{64}, signed sha256:/);
    }
  });

  it('fails MANIFEST_DIGEST_MISMATCH, and SUBJECT_MISMATCH for another name or version', async () => {
    const manifestDigest = sha256Digest('another manifest');
    assert.equal(
      (await trustErrorOf(() => verifyPackage(bundle, { ...subject, manifestDigest }, policy, NOW))).code,
      'MANIFEST_DIGEST_MISMATCH',
    );
    for (const other of [{ name: 'acme/xdp-fx' }, { version: '1.2.1' }, { version: '1.2.0-rc.1' }]) {
      const err = await trustErrorOf(() => verifyPackage(bundle, { ...subject, ...other }, policy, NOW));
      assert.equal(err.code, 'SUBJECT_MISMATCH', JSON.stringify(other));
    }
  });

  it('rejects index and policy signatures offered as package signatures (PAYLOAD_TYPE_MISMATCH)', async () => {
    // Even a document whose JSON is a perfect package statement must not pass.
    const statement = JSON.parse(Buffer.from(envelopeOf(bundle).payload, 'base64').toString('utf8'));
    for (const type of [INDEX_PAYLOAD_TYPE, POLICY_PAYLOAD_TYPE]) {
      const document = await signDocument(type, statement, publisher.signing);
      const err = await trustErrorOf(() => verifyPackage(document, subject, policy, NOW));
      assert.equal(err.code, 'PAYLOAD_TYPE_MISMATCH', type);
      // Relabelling it as a package breaks the signature, which covers the payload type.
      const relabelled = cloneBundle(document);
      envelopeOf(relabelled).payloadType = PACKAGE_PAYLOAD_TYPE;
      assert.equal(
        (await trustErrorOf(() => verifyPackage(relabelled, subject, policy, NOW))).code,
        'SIGNATURE_INVALID',
      );
    }
  });

  it('rejects unknown keys and keys trusted only for another namespace', async () => {
    const stranger = makeKey();
    const foreign = await signPackage(subject, stranger.signing);
    const unknown = await trustErrorOf(() => verifyPackage(foreign, subject, policy, NOW));
    assert.equal(unknown.code, 'KEY_UNKNOWN');
    const otherNamespace = policyOf({ acme: [publisher], evil: [stranger] });
    const err = await trustErrorOf(() => verifyPackage(foreign, subject, otherNamespace, NOW));
    assert.equal(err.code, 'KEY_NOT_TRUSTED_FOR_NAMESPACE');
    assert.match(err.message, /trusted for evil, not for namespace acme/);
    // The acme key cannot sign for evil either.
    const evilSubject = makeSubject({ name: 'evil/xdp-fw' });
    const evilBundle = await signPackage(evilSubject, publisher.signing);
    assert.equal(
      (await trustErrorOf(() => verifyPackage(evilBundle, evilSubject, policyOf({ acme: [publisher] }), NOW)))
        .code,
      'KEY_NOT_TRUSTED_FOR_NAMESPACE',
    );
    assert.equal(
      (await trustErrorOf(() => verifyPackage(bundle, subject, { publishers: {} }, NOW))).code,
      'KEY_UNKNOWN',
    );
  });

  it('enforces the key validity window at the verification time', async () => {
    const windowed = makeKey({ validFrom: '2026-01-01T00:00:00Z', validUntil: '2026-06-01T00:00:00Z' });
    const signed = await signPackage(subject, windowed.signing);
    const windowPolicy = policyOf({ acme: [windowed] });
    assert.equal((await verifyPackage(signed, subject, windowPolicy, NOW)).keyId, windowed.pair.keyId);
    const cases: Array<[string, string]> = [
      ['2025-12-31T23:59:59.999Z', 'KEY_NOT_YET_VALID'],
      ['2026-06-01T00:00:00Z', 'KEY_EXPIRED'],
      ['2030-01-01T00:00:00Z', 'KEY_EXPIRED'],
    ];
    for (const [at, code] of cases) {
      assert.equal(
        (await trustErrorOf(() => verifyPackage(signed, subject, windowPolicy, new Date(at)))).code,
        code,
        at,
      );
    }
    assert.equal(
      (await verifyPackage(signed, subject, windowPolicy, new Date('2026-01-01T00:00:00Z'))).keyId,
      windowed.pair.keyId,
    );
  });

  it('requires the envelope keyid to equal the key hint', async () => {
    const other = makeKey();
    const changedKeyid = cloneBundle(bundle);
    envelopeOf(changedKeyid).signatures[0]!.keyid = other.pair.keyId;
    assert.equal(
      (await trustErrorOf(() => verifyPackage(changedKeyid, subject, policy, NOW))).code,
      'KEYID_MISMATCH',
    );
    const changedHint = cloneBundle(bundle);
    changedHint.verificationMaterial.publicKey = { hint: other.pair.keyId };
    assert.equal(
      (await trustErrorOf(() => verifyPackage(changedHint, subject, policy, NOW))).code,
      'KEYID_MISMATCH',
    );
    // Pointing both at another trusted key does not make its signature.
    const both = cloneBundle(changedHint);
    envelopeOf(both).signatures[0]!.keyid = other.pair.keyId;
    const twoKeys = policyOf({ acme: [publisher, other] });
    assert.equal(
      (await trustErrorOf(() => verifyPackage(both, subject, twoKeys, NOW))).code,
      'SIGNATURE_INVALID',
    );
  });

  it('rejects statements of the wrong shape even when properly signed (STATEMENT_INVALID)', async () => {
    const good = JSON.parse(Buffer.from(envelopeOf(bundle).payload, 'base64').toString('utf8'));
    const variants: unknown[] = [
      { ...good, _type: 'https://in-toto.io/Statement/v0.1' },
      { ...good, predicateType: 'https://slsa.dev/provenance/v1' },
      { ...good, extra: true },
      { ...good, subject: [] },
      { ...good, subject: [good.subject[0], good.subject[0]] },
      { ...good, subject: [{ ...good.subject[0], digest: { sha256: 'ABC' } }] },
      {
        ...good,
        subject: [{ ...good.subject[0], digest: { sha256: good.subject[0].digest.sha256, sha512: 'aa' } }],
      },
      { ...good, predicate: { ...good.predicate, manifestDigest: 'md5:abc' } },
      { ...good, predicate: { name: good.predicate.name, version: good.predicate.version } },
      [good],
      'a string',
    ];
    for (const variant of variants) {
      const signed = await signPayload(
        PACKAGE_PAYLOAD_TYPE,
        Buffer.from(JSON.stringify(variant)),
        publisher.signing,
      );
      const err = await trustErrorOf(() => verifyPackage(signed, subject, policy, NOW));
      assert.equal(err.code, 'STATEMENT_INVALID', JSON.stringify(variant).slice(0, 200));
    }
    for (const raw of [Buffer.from('not json'), Buffer.from([0xff, 0xfe, 0x7b, 0x7d])]) {
      const signed = await signPayload(PACKAGE_PAYLOAD_TYPE, raw, publisher.signing);
      assert.equal(
        (await trustErrorOf(() => verifyPackage(signed, subject, policy, NOW))).code,
        'STATEMENT_INVALID',
      );
    }
  });

  it('rejects malformed bundles with BUNDLE_INVALID', async () => {
    const envelope = envelopeOf(bundle);
    const variants: Array<[string, unknown]> = [
      ['null', null],
      ['array', [bundle]],
      ['not JSON text', '{"mediaType":'],
      ['v0.2 media type', { ...bundle, mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.2' }],
      ['no envelope', { ...bundle, dsseEnvelope: undefined }],
      [
        'line break in payload',
        {
          ...bundle,
          dsseEnvelope: {
            ...envelope,
            payload: `${envelope.payload.slice(0, 8)}\n${envelope.payload.slice(8)}`,
          },
        },
      ],
      [
        'stray character in signature',
        {
          ...bundle,
          dsseEnvelope: {
            ...envelope,
            signatures: [{ ...envelope.signatures[0], sig: `!${envelope.signatures[0]!.sig}` }],
          },
        },
      ],
      ['payload as byte array', { ...bundle, dsseEnvelope: { ...envelope, payload: [1, 2, 3] } }],
      [
        'padding removed',
        { ...bundle, dsseEnvelope: { ...envelope, payload: envelope.payload.replace(/=+$/, '') } },
      ],
      [
        'two signatures',
        {
          ...bundle,
          dsseEnvelope: { ...envelope, signatures: [envelope.signatures[0], envelope.signatures[0]] },
        },
      ],
      ['no signature', { ...bundle, dsseEnvelope: { ...envelope, signatures: [] } }],
      ['no key material', { ...bundle, verificationMaterial: { timestampVerificationData: {} } }],
      ['certificate', { ...bundle, verificationMaterial: { certificate: { rawBytes: 'MAA=' } } }],
      [
        'tlog entry',
        {
          ...bundle,
          verificationMaterial: {
            ...bundle.verificationMaterial,
            tlogEntries: [
              {
                logIndex: '1',
                logId: { keyId: 'AA==' },
                kindVersion: { kind: 'dsse', version: '0.0.1' },
                integratedTime: '1',
                inclusionProof: {
                  logIndex: '1',
                  rootHash: 'AA==',
                  treeSize: '2',
                  hashes: [],
                  checkpoint: { envelope: 'x' },
                },
                canonicalizedBody: 'AA==',
              },
            ],
          },
        },
      ],
      [
        'message signature',
        {
          mediaType: bundle.mediaType,
          verificationMaterial: bundle.verificationMaterial,
          messageSignature: {
            messageDigest: { algorithm: 'SHA2_256', digest: 'AA==' },
            signature: envelope.signatures[0]!.sig,
          },
        },
      ],
    ];
    for (const [what, variant] of variants) {
      const err = await trustErrorOf(() => verifyPackage(variant, subject, policy, NOW));
      assert.equal(err.code, 'BUNDLE_INVALID', `${what}: ${err.message}`);
    }
  });

  it('refuses to sign or verify malformed package references (SUBJECT_INVALID)', async () => {
    for (const bad of [
      { name: 'xdp-fw' },
      { name: 'Acme/xdp' },
      { name: 'a/b/c' },
      { version: 'v1.2.0' },
      { digest: 'sha256:xyz' },
      { manifestDigest: '' },
    ]) {
      const err = await trustErrorOf(() => signPackage(makeSubject(bad), publisher.signing));
      assert.equal(err.code, 'SUBJECT_INVALID', JSON.stringify(bad));
    }
    assert.equal(
      (await trustErrorOf(() => verifyPackage(bundle, { ...subject, name: 'nonamespace' }, policy, NOW)))
        .code,
      'SUBJECT_INVALID',
    );
  });
});
