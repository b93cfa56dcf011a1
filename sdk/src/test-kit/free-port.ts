// A TCP port free on `host` now, chosen by the kernel: tests never hard-code ports.
import { createServer } from 'node:net';
import { BpfleetError } from '../errors.js';

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string')
    throw new BpfleetError(
      'NO_FREE_PORT',
      `freePort ${host}: the kernel gave no port; check that ${host} is local`,
    );
  return address.port;
}
