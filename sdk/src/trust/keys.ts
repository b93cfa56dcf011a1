// ECDSA P-256 keys: generation, PEM parsing and the key id (`sha256:<hex of the SPKI DER>`) used as the bundle's key hint.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { TrustError } from '../errors.js';

export interface KeyPair {
  keyId: string;
  privateKeyPem: string;
  publicKeyPem: string;
}

/** A private key ready to sign; `keyId` goes into the bundle as the key hint. */
export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
  publicKeyPem: string;
}

export const KEY_ID_PATTERN = /^sha256:[0-9a-f]{64}$/;

export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    keyId: keyIdOfKey(publicKey),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** The key id of a public key PEM; the same key in any PEM layout gets the same id. */
export function keyIdOf(publicKeyPem: string, context = 'public key'): string {
  return keyIdOfKey(toPublicKey(publicKeyPem, context));
}

// Parsed public keys by PEM: every verification names its trusted key by PEM, and parsing (with the P-256
// check) costs more than the signature check itself. KeyObjects are immutable, so sharing them is safe.
const parsed = new Map<string, KeyObject>();
const PARSED_LIMIT = 256;

/** Parses a PEM public key and requires ECDSA P-256; `context` starts the error message. */
export function toPublicKey(publicKeyPem: string, context: string): KeyObject {
  const known = parsed.get(publicKeyPem);
  if (known) return known;
  // createPublicKey happily derives a public key from a private one; a private key in a config is a leak.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(publicKeyPem)) {
    throw new TrustError(
      'KEY_INVALID',
      `${context}: this is a private key; give the public key (.pub) instead`,
    );
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: publicKeyPem, format: 'pem' });
  } catch (err) {
    throw new TrustError('KEY_INVALID', `${context}: not a PEM public key`, { cause: err });
  }
  assertP256(key, context);
  if (parsed.size >= PARSED_LIMIT) parsed.clear();
  parsed.set(publicKeyPem, key);
  return key;
}

/** Parses a PEM private key (PKCS#8 or SEC1, unencrypted) and requires ECDSA P-256. */
export function toSigningKey(privateKeyPem: string, context = 'private key'): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: privateKeyPem, format: 'pem' });
  } catch (err) {
    throw new TrustError('KEY_INVALID', `${context}: not an unencrypted PEM private key`, { cause: err });
  }
  assertP256(privateKey, context);
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: keyIdOfKey(publicKey),
    privateKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const keyIds = new WeakMap<KeyObject, string>();

function keyIdOfKey(publicKey: KeyObject): string {
  const known = keyIds.get(publicKey);
  if (known) return known;
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const keyId = `sha256:${createHash('sha256').update(der).digest('hex')}`;
  keyIds.set(publicKey, keyId);
  return keyId;
}

function assertP256(key: KeyObject, context: string): void {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    const kind = key.asymmetricKeyType === 'ec' ? `ec ${curve ?? 'unknown curve'}` : key.asymmetricKeyType;
    throw new TrustError('KEY_UNSUPPORTED', `${context}: expected an ECDSA P-256 key, got ${kind}`);
  }
}
