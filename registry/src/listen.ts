// Listening on the edge's ports: a failure becomes one clear line (which port, on which address, why).
import { type AddressInfo, createServer, type Server } from 'node:net';
import { BpfleetError } from '@bpfleet/sdk/errors';

export class ListenError extends BpfleetError {}

/** `what` names the port for the operator: `port`, `broker port`. */
export function toListenError(err: unknown, what: string, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const detail = (err as Error).message;
  if (code === 'EADDRINUSE')
    return new ListenError('PORT_IN_USE', `${what} ${port} on ${host} is in use: ${detail}`, { cause: err });
  if (code === 'EACCES')
    return new ListenError('PORT_DENIED', `${what} ${port} on ${host}: permission denied: ${detail}`, {
      cause: err,
    });
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
    return new ListenError(
      'ADDRESS_UNAVAILABLE',
      `${what} ${port}: ${host} is not an address of this machine: ${detail}`,
      {
        cause: err,
      },
    );
  return err;
}

/** Resolves once `server` listens, rejects with a ListenError when it cannot. */
export function listen(
  server: Server,
  options: { host: string; port: number; backlog?: number },
  what = 'port',
): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(toListenError(err, what, options.host, options.port));
    server.once('error', onError);
    server.listen(options, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** For a primary whose workers listen: bind and release the port once, so a busy one fails before any fork. */
export async function assertPortFree(host: string, port: number, what = 'port'): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await listen(probe, { host, port }, what);
  await new Promise((resolve) => probe.close(resolve));
}
