// Serves a fixture's app on 127.0.0.1, port 0, for tests over a real socket (with the download fast path, as main.ts).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNodeListener } from '../node-listener.js';
import type { RegistryFixture } from './registry-fixture.js';

export interface ServedFixture {
  url: string;
  port: number;
  close(): Promise<void>;
}

export function serveFixture(fx: RegistryFixture): Promise<ServedFixture> {
  const server = createServer({ maxHeaderSize: 64 * 1024 }, createNodeListener(fx, fx.deps.metrics));
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
