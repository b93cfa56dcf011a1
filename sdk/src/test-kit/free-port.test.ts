// The kit's freePort: a port the kernel just chose, free to listen on at once, on the host asked for.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { freePort } from './free-port.js';

for (const host of ['127.0.0.1', '127.0.0.2', '::1']) {
  test(`a port free on ${host} can be listened on`, async () => {
    const port = await freePort(host);
    assert.ok(Number.isInteger(port) && port > 0 && port < 65536);
    const server = createServer().listen(port, host);
    await once(server, 'listening');
    assert.deepEqual(server.address(), { address: host, family: host.includes(':') ? 'IPv6' : 'IPv4', port });
    await new Promise((r) => server.close(r));
  });
}
