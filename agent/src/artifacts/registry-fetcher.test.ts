// RegistryFetcher: the bundle is fetched with retries, like the archive; a client error is final.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { silentLogger } from '../logger.js';
import { ArtifactCache } from './artifact-cache.js';
import { RegistryFetcher } from './registry-fetcher.js';

const archive = randomBytes(4096);
const ref = { package: 'acme/count', version: '1.0.0', digest: sha256Digest(archive), size: archive.length };
const options = {
  attempts: 4,
  backoff: { initialMs: 5, maxMs: 20 },
  stallTimeoutMs: 1000,
  logger: silentLogger,
};
/** How the n-th bundle request (1-based) is answered. */
let answer: (res: ServerResponse, n: number) => void;
let bundleRequests = 0;
/** The blob answers with its first bytes, then nothing (a frozen server). */
let hangBlob = false;
let root: string;
let url: string;
const server = createServer((req, res) => {
  if (req.url?.startsWith('/v1/blobs/')) {
    if (hangBlob) {
      res.writeHead(200, { 'content-length': String(archive.length) });
      res.write(archive.subarray(0, 100));
      return;
    }
    res.writeHead(200, { 'content-length': String(archive.length) });
    res.end(archive);
    return;
  }
  answer(res, ++bundleRequests);
});

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'bpfleet-fetcher-'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  server.close();
  await rm(root, { recursive: true, force: true });
});

async function fetcher(): Promise<RegistryFetcher> {
  const cache = new ArtifactCache(join(root, String(Math.random())));
  await cache.init();
  return new RegistryFetcher(url, cache, options);
}

test('a reset connection and a 503 on the bundle are retried', async () => {
  bundleRequests = 0;
  answer = (res, n) => {
    if (n === 1) res.socket?.destroy();
    else if (n === 2) res.writeHead(503).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"mediaType":"x"}');
  };
  const artifact = await (await fetcher()).fetch(ref);
  assert.deepEqual(artifact.bundle, { mediaType: 'x' });
  assert.equal(Buffer.compare(Buffer.from(artifact.archive), archive), 0);
  assert.equal(bundleRequests, 3);
});

test('a 404 is final and a server that keeps failing gives up with the last reason', async () => {
  bundleRequests = 0;
  answer = (res) => res.writeHead(404).end();
  await assert.rejects((await fetcher()).fetch(ref), { code: 'FETCH_FAILED', message: /HTTP 404/ });
  assert.equal(bundleRequests, 1);
  bundleRequests = 0;
  answer = (res) => res.writeHead(502).end();
  await assert.rejects((await fetcher()).fetch(ref), /gave up after 4 attempts: HTTP 502/);
  assert.equal(bundleRequests, 4);
});

test("the pass's signal cuts a frozen download and a hanging bundle request at once", async () => {
  for (const frozen of ['blob', 'bundle'] as const) {
    hangBlob = frozen === 'blob';
    answer = () => {};
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('agent stopping')), 50);
    await assert.rejects((await fetcher()).fetch(ref, controller.signal), /agent stopping/, frozen);
    // Without the signal: four attempts of a 1 s stall (blob) or a 15 s request timeout (bundle).
    assert.ok(Date.now() - started < 900, `${frozen}: cut after ${Date.now() - started} ms`);
  }
  hangBlob = false;
});
