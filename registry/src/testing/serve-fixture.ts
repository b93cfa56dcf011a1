// Serves a fixture's app on 127.0.0.1, port 0, for tests over a real socket.
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import type { RegistryFixture } from './registry-fixture.js';

export interface ServedFixture {
  url: string;
  port: number;
  close(): Promise<void>;
}

export function serveFixture(fx: RegistryFixture): Promise<ServedFixture> {
  return new Promise((resolve) => {
    const server: ServerType = serve(
      { fetch: fx.app.fetch, hostname: '127.0.0.1', port: 0, serverOptions: { maxHeaderSize: 64 * 1024 } },
      (info: AddressInfo) => {
        resolve({
          url: `http://127.0.0.1:${info.port}`,
          port: info.port,
          close: () =>
            new Promise<void>((done) => {
              if ('closeAllConnections' in server) server.closeAllConnections();
              server.close(() => done());
            }),
        });
      },
    );
  });
}
