// Who a TLS client is by its certificate: the CN of a certificate the device CA signed, and its key's hash.
import type { TLSSocket } from 'node:tls';
import { spkiCredentialHash } from './device-ca.js';

export interface PeerCertificate {
  /** The certificate's CN: the device id it was issued for. */
  commonName: string;
  /** `spki:sha256:<hex>` of its public key: compared with what the edge stored at registration. */
  credentialHash: string;
}

/**
 * The verified client certificate of `socket`, or undefined when it sent none or one the CA did not sign
 * (`requestCert` without `rejectUnauthorized`: such a client may still log in with a password).
 */
export function peerCertificate(socket: TLSSocket): PeerCertificate | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerX509Certificate();
  if (!cert) return undefined;
  const cn = /^CN=(.+)$/m.exec(cert.subject)?.[1];
  if (!cn) return undefined;
  const der = cert.publicKey.export({ type: 'spki', format: 'der' });
  return { commonName: cn, credentialHash: spkiCredentialHash(der) };
}
