// A registering device's credential: a broker password (shown once), or a certificate from the edge's device CA
// for a public key the operator's machine made (its private key never reaches the edge).
import { issueSecret } from '../broker/credentials.js';
import type { FleetDeps } from '../fleet/fleet-deps.js';
import { httpError } from '../http-errors.js';
import { certificateCredentialHash } from '../tls/device-ca.js';

export interface DeviceCredential {
  /** What the fleet store keeps: the password's hash, or `spki:sha256:…` of the certificate's key. */
  credentialHash: string;
  /** For an external broker's own login table (mosquitto dynsec): with a certificate, a random one nobody sees. */
  brokerSecret: string;
  /** Added to the registration's answer. */
  answer: {
    password?: string;
    tls?: { certificate: string; ca: string; notAfter: string };
  };
}

export async function issueDeviceCredential(
  deps: FleetDeps,
  deviceId: string,
  publicKey: string | undefined,
): Promise<DeviceCredential> {
  const { secret, secretHash } = issueSecret();
  if (publicKey === undefined)
    return { credentialHash: secretHash, brokerSecret: secret, answer: { password: secret } };
  if (!deps.deviceCa)
    throw httpError('BAD_REQUEST', `register ${deviceId}: this edge issues no device certificates`);
  try {
    certificateCredentialHash(publicKey);
  } catch (err) {
    throw httpError('INVALID_PARAMETER', `register ${deviceId}: publicKey: ${(err as Error).message}`);
  }
  const ca = await deps.deviceCa();
  const issued = await ca.issue(deviceId, publicKey, deps.deviceCertLifetimeMs);
  return {
    credentialHash: issued.credentialHash,
    brokerSecret: secret,
    answer: { tls: { certificate: issued.certPem, ca: ca.certPem, notAfter: issued.notAfter } },
  };
}
