// The edge's HTTPS server: a device certificate is asked for (never required: operators and browsers have none), so
// a device can renew its certificate with the one it holds; everything else goes to the app's listener.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { FleetDeps } from '../fleet/fleet-deps.js';
import { createCertificateRenewal } from './certificate-renewal.js';
import type { ServerTls } from './server-tls.js';

export async function createEdgeHttpsServer(
  tls: ServerTls,
  listener: (req: IncomingMessage, res: ServerResponse) => void,
  fleet: FleetDeps | undefined,
): Promise<Server> {
  const options = { maxHeaderSize: 64 * 1024, ...tls };
  if (!fleet?.deviceCa) return createServer(options, listener);
  const ca = (await fleet.deviceCa()).certPem;
  const renew = createCertificateRenewal({
    store: fleet.store,
    deviceCa: fleet.deviceCa,
    ...(fleet.deviceCertLifetimeMs !== undefined && { lifetimeMs: fleet.deviceCertLifetimeMs }),
  });
  const both: RequestListener = (req, res) => {
    if (!renew(req, res)) listener(req, res);
  };
  return createServer({ ...options, ca, requestCert: true, rejectUnauthorized: false }, both);
}
