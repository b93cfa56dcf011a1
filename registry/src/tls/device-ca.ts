// The edge as device CA: `<dataDir>/device-ca.key` (0600) and `device-ca.crt`, made once; client certificates
// issued for a device's public key (the key itself never reaches the edge), CN and SAN = the device id.
import 'reflect-metadata';
import { createHash, createPrivateKey, createPublicKey, randomBytes, webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BpfleetError } from '@bpfleet/sdk/errors';
import * as x509 from '@peculiar/x509';

export class TlsError extends BpfleetError {}

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const CA_LIFETIME_MS = 10 * 365 * 86_400_000;
/** A device certificate lives 90 days by default: short enough that a lost one expires, long for a device offline. */
export const DEVICE_CERT_LIFETIME_MS = 90 * 86_400_000;

export interface DeviceCa {
  /** The CA certificate (PEM): brokers verify device certificates with it. */
  readonly certPem: string;
  /** A client certificate for `deviceId` over `publicKeyPem` (SPKI PEM, ECDSA P-256 or Ed25519 … as given). */
  issue(deviceId: string, publicKeyPem: string, lifetimeMs?: number): Promise<IssuedCertificate>;
}

export interface IssuedCertificate {
  certPem: string;
  notAfter: string;
  /** What the edge stores as the device's credential: the hash of its public key. */
  credentialHash: string;
}

/** A certificate credential: `spki:sha256:<hex>` of the device's public key (DER), never a secret. */
export function certificateCredentialHash(publicKeyPem: string): string {
  let der: Buffer;
  try {
    der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  } catch (err) {
    throw new TlsError(
      'PUBLIC_KEY_INVALID',
      `device public key: not a PEM public key: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  return spkiCredentialHash(der);
}

export function spkiCredentialHash(spkiDer: Buffer): string {
  return `spki:sha256:${createHash('sha256').update(spkiDer).digest('hex')}`;
}

async function exists(path: string): Promise<boolean> {
  return readFile(path).then(
    () => true,
    () => false,
  );
}

/** Loads the edge's device CA, creating it on first use (the key 0600, never overwritten). */
export async function loadOrCreateDeviceCa(dataDir: string, now = new Date()): Promise<DeviceCa> {
  const keyPath = join(dataDir, 'device-ca.key');
  const certPath = join(dataDir, 'device-ca.crt');
  if (!(await exists(keyPath))) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const keys = (await webcrypto.subtle.generateKey(ALG, true, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomBytes(16)
        .toString('hex')
        .replace(/^[89a-f]/, '1'),
      name: 'CN=bpfleet device CA',
      notBefore: new Date(now.getTime() - 60_000),
      notAfter: new Date(now.getTime() + CA_LIFETIME_MS),
      keys,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    const keyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({
      type: 'pkcs8',
      format: 'pem',
    });
    await writeFile(keyPath, keyPem, { mode: 0o600, flag: 'wx' });
    await writeFile(certPath, cert.toString('pem'), { mode: 0o600 });
  }
  await chmod(keyPath, 0o600);
  const keyDer = createPrivateKey(await readFile(keyPath, 'utf8')).export({ type: 'pkcs8', format: 'der' });
  const signingKey = await webcrypto.subtle.importKey('pkcs8', keyDer, ALG, false, ['sign']);
  const caCert = new x509.X509Certificate(await readFile(certPath, 'utf8'));
  return {
    certPem: caCert.toString('pem'),
    async issue(deviceId, publicKeyPem, lifetimeMs = DEVICE_CERT_LIFETIME_MS) {
      const credentialHash = certificateCredentialHash(publicKeyPem);
      const spki = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
      const publicKey = new x509.PublicKey(spki);
      const notBefore = new Date(Date.now() - 60_000);
      const notAfter = new Date(Date.now() + lifetimeMs);
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: randomBytes(16)
          .toString('hex')
          .replace(/^[89a-f]/, '1'),
        subject: `CN=${deviceId}`,
        issuer: caCert.subject,
        notBefore,
        notAfter,
        signingKey,
        publicKey,
        signingAlgorithm: ALG,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
          new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: deviceId }]),
          await x509.AuthorityKeyIdentifierExtension.create(caCert),
        ],
      });
      return { certPem: cert.toString('pem'), notAfter: notAfter.toISOString(), credentialHash };
    },
  };
}
