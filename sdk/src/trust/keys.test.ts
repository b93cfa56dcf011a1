// Keys: P-256 only, a key id that depends on the key and not on its PEM layout, a Signer that @sigstore/verify accepts.
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { createKeySigner } from './key-signer.js';
import { generateKeyPair, KEY_ID_PATTERN, keyIdOf, toPublicKey, toSigningKey } from './keys.js';

describe('keys', () => {
  it('generates P-256 pairs with distinct, stable key ids', () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    assert.match(a.keyId, KEY_ID_PATTERN);
    assert.notEqual(a.keyId, b.keyId);
    assert.equal(keyIdOf(a.publicKeyPem), a.keyId);
    assert.equal(toSigningKey(a.privateKeyPem).keyId, a.keyId);
    assert.equal(createPublicKey(a.publicKeyPem).asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });

  it('gives the same id to the same key in another PEM layout (SEC1 private key, rewrapped public key)', () => {
    const pair = generateKeyPair();
    const sec1 = createPrivateKey(pair.privateKeyPem).export({ type: 'sec1', format: 'pem' }).toString();
    assert.equal(toSigningKey(sec1).keyId, pair.keyId);
    const body = pair.publicKeyPem.replace(/-----[A-Z ]+-----|\s/g, '');
    const rewrapped = `-----BEGIN PUBLIC KEY-----\n${body.match(/.{1,40}/g)!.join('\n')}\n-----END PUBLIC KEY-----\n`;
    assert.equal(keyIdOf(rewrapped), pair.keyId);
  });

  it('rejects other key types and garbage with KEY_UNSUPPORTED / KEY_INVALID', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const ed = generateKeyPairSync('ed25519');
    for (const pair of [p384, ed]) {
      assert.throws(() => keyIdOf(pair.publicKey.export({ type: 'spki', format: 'pem' }).toString()), {
        code: 'KEY_UNSUPPORTED',
      });
      assert.throws(() => toSigningKey(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), {
        code: 'KEY_UNSUPPORTED',
      });
    }
    assert.throws(() => keyIdOf('not a key'), {
      code: 'KEY_INVALID',
      message: /^public key: not a PEM public key$/,
    });
    assert.throws(() => toSigningKey(generateKeyPair().publicKeyPem, 'k'), { code: 'KEY_INVALID' });
    assert.throws(() => toPublicKey(generateKeyPair().privateKeyPem, 'k'), {
      code: 'KEY_INVALID',
      message: /private key/,
    });
    const encrypted = createPrivateKey(generateKeyPair().privateKeyPem)
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' })
      .toString();
    assert.throws(() => toSigningKey(encrypted), { code: 'KEY_INVALID' });
  });

  it('signer produces DER ECDSA-SHA256 signatures and names the key by id', async () => {
    const pair = generateKeyPair();
    const key = toSigningKey(pair.privateKeyPem);
    const data = Buffer.from('DSSEv1 0  0 ');
    const result = await createKeySigner(key).sign(data);
    assert.deepEqual(result.key, { $case: 'publicKey', publicKey: key.publicKeyPem, hint: pair.keyId });
    assert.equal(result.signature[0], 0x30, 'DER SEQUENCE');
    assert.ok(verify('sha256', data, pair.publicKeyPem, result.signature));
    assert.ok(!verify('sha256', Buffer.from('other'), pair.publicKeyPem, result.signature));
  });
});

describe('parsed key reuse', () => {
  it('returns the same parsed key for the same PEM and still refuses bad keys every time', () => {
    const pair = generateKeyPair();
    const first = toPublicKey(pair.publicKeyPem, 'k');
    assert.equal(toPublicKey(pair.publicKeyPem, 'k'), first);
    assert.equal(keyIdOf(pair.publicKeyPem), pair.keyId);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    for (let i = 0; i < 2; i++)
      assert.throws(() => toPublicKey(rsa.toString(), 'rsa'), { code: 'KEY_UNSUPPORTED' });
    for (let i = 0; i < 300; i++) toPublicKey(generateKeyPair().publicKeyPem, 'many');
    assert.equal(keyIdOf(pair.publicKeyPem), pair.keyId);
  });
});
