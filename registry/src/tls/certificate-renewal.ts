// Renewal of a device certificate before it expires: `POST /v1/fleet/devices/{id}/certificate` over HTTPS, the
// device authenticated by the certificate it still holds (CN = id, key = the stored one); its new key replaces it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { FleetStore } from '../fleet/fleet-store.js';
import { certificateCredentialHash, type DeviceCa } from './device-ca.js';
import { peerCertificate } from './peer-certificate.js';

const PATH = /^\/v1\/fleet\/devices\/([A-Za-z0-9][A-Za-z0-9._-]{0,127})\/certificate$/;
const MAX_BODY = 8 * 1024;

export interface CertificateRenewalOptions {
  store: FleetStore;
  deviceCa: () => Promise<DeviceCa>;
  lifetimeMs?: number;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const refuse = (res: ServerResponse, status: number, code: string, message: string) =>
  reply(res, status, { error: { code, message } });

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new RangeError(`more than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** A request listener step: true when it answered (the renewal path), false to let the app answer. */
export function createCertificateRenewal(o: CertificateRenewalOptions) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const match = PATH.exec(req.url ?? '');
    if (!match || req.method !== 'POST') return false;
    void renew(match[1]!, req, res).catch((err: unknown) =>
      refuse(res, 500, 'INTERNAL', `renew certificate: ${(err as Error).message}`),
    );
    return true;
  };

  async function renew(id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const context = `renew certificate of ${id}`;
    const peer = peerCertificate(req.socket as TLSSocket);
    if (!peer)
      return refuse(res, 401, 'CERTIFICATE_REQUIRED', `${context}: present the device's current certificate`);
    const device = o.store.getDevice(id);
    if (peer.commonName !== id || !device || device.disabled || device.secretHash !== peer.credentialHash) {
      return refuse(
        res,
        403,
        'FORBIDDEN',
        `${context}: the certificate presented (${peer.commonName}) is not ${id}'s`,
      );
    }
    let publicKey: unknown;
    try {
      publicKey = ((await readJson(req)) as { publicKey?: unknown }).publicKey;
      if (typeof publicKey !== 'string') throw new TypeError('publicKey (PEM) is required');
      certificateCredentialHash(publicKey);
    } catch (err) {
      return refuse(res, 400, 'INVALID_BODY', `${context}: ${(err as Error).message}`);
    }
    const issued = await (await o.deviceCa()).issue(id, publicKey, o.lifetimeMs);
    // From now on only the new key logs in; the live session (opened with the old one) goes on.
    o.store.updateDevice(id, { secretHash: issued.credentialHash });
    reply(res, 200, { certificate: issued.certPem, notAfter: issued.notAfter });
  }
}
