import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { BpfleetError } from '@bpfleet/sdk/errors';
import { freePort } from '@bpfleet/sdk/test-kit';
import { silentLogger } from '../logger.js';
import { ArtifactCache } from './artifact-cache.js';
import { downloadBlob } from './http-download.js';

const blob = randomBytes(256 * 1024);
const ref = { label: 'acme/blob@1.0.0', digest: sha256Digest(blob), size: blob.length };
const options = {
  attempts: 4,
  backoff: { initialMs: 5, maxMs: 20 },
  stallTimeoutMs: 300,
  logger: silentLogger,
};

type Mode = (req: IncomingMessage, res: ServerResponse, n: number) => void;
let mode: Mode;
let requests: Array<string | undefined> = [];
let url: string;
let root: string;
const server = createServer((req, res) => {
  requests.push(req.headers.range);
  mode(req, res, requests.length);
});

function serveRange(req: IncomingMessage, res: ServerResponse, body: Buffer = blob): number {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = m ? Number(m[1]) : 0;
  res.writeHead(m ? 206 : 200, {
    'content-length': String(body.length - start),
    ...(m ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
  });
  return start;
}

before(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/blobs/${ref.digest}`;
  root = await mkdtemp(join(tmpdir(), 'bpfleet-agent-cache-'));
});
after(async () => {
  server.closeAllConnections();
  server.close();
  await rm(root, { recursive: true, force: true });
});

async function freshCache(): Promise<ArtifactCache> {
  const cache = new ArtifactCache(await mkdtemp(join(root, 'c-')));
  await cache.init();
  requests = [];
  return cache;
}

test('downloads once, then serves from the cache', async () => {
  const cache = await freshCache();
  mode = (req, res) => res.end(blob.subarray(serveRange(req, res)));
  assert.ok(Buffer.from(await downloadBlob(cache, url, ref, options)).equals(blob));
  assert.ok(Buffer.from(await downloadBlob(cache, url, ref, options)).equals(blob));
  assert.equal(requests.length, 1);
  assert.deepEqual(await readdir(join(cache.dir, 'partial')), []);
});

test('resumes with Range after the connection drops mid-body', async () => {
  const cache = await freshCache();
  mode = (req, res, n) => {
    const start = serveRange(req, res);
    if (n === 1) {
      // Dropped once the first bytes are on their way (handed to the kernel), not after a guessed delay.
      res.write(blob.subarray(0, 100_000), () => res.socket?.destroy());
    } else res.end(blob.subarray(start));
  };
  assert.ok(Buffer.from(await downloadBlob(cache, url, ref, options)).equals(blob));
  assert.equal(requests[0], undefined);
  assert.match(requests[1] ?? '', /^bytes=\d+-$/);
  assert.ok(Number(/\d+/.exec(requests[1]!)![0]) > 0);
});

test('a server that trickles and then freezes is abandoned and resumed', async () => {
  const cache = await freshCache();
  mode = (req, res, n) => {
    const start = serveRange(req, res);
    if (n > 1) return res.end(blob.subarray(start));
    let sent = 0;
    const tick = setInterval(() => {
      if (sent >= 4096) return clearInterval(tick); // then nothing, connection kept open
      res.write(blob.subarray(sent, sent + 512));
      sent += 512;
    }, 10);
    res.on('close', () => clearInterval(tick));
  };
  assert.ok(Buffer.from(await downloadBlob(cache, url, ref, options)).equals(blob));
  assert.equal(requests.length, 2);
  assert.equal(requests[1], 'bytes=4096-');
});

test('a slow but steady trickle completes', async () => {
  const cache = await freshCache();
  const small = randomBytes(8192);
  const smallRef = { label: 'acme/small@1', digest: sha256Digest(small), size: small.length };
  mode = (_req, res) => {
    res.writeHead(200, { 'content-length': String(small.length) });
    let sent = 0;
    const tick = setInterval(() => {
      res.write(small.subarray(sent, sent + 1024));
      sent += 1024;
      if (sent >= small.length) {
        clearInterval(tick);
        res.end();
      }
    }, 15);
  };
  // 15 ms between chunks against a stall timeout 200× that: only a real stall can trip it, not a busy machine.
  assert.ok(
    Buffer.from(await downloadBlob(cache, url, smallRef, { ...options, stallTimeoutMs: 3000 })).equals(small),
  );
  assert.equal(requests.length, 1);
});

test('more bytes than the index says is refused and nothing is kept', async () => {
  const cache = await freshCache();
  mode = (_req, res) => {
    res.writeHead(200); // no length: the body simply never ends
    const tick = setInterval(() => res.write(randomBytes(64 * 1024)), 1);
    res.on('close', () => clearInterval(tick));
  };
  await assert.rejects(downloadBlob(cache, url, ref, options), (err: unknown) => {
    assert.ok(err instanceof BpfleetError);
    assert.equal(err.code, 'SIZE_EXCEEDED');
    return true;
  });
  assert.deepEqual(await readdir(join(cache.dir, 'partial')), []);
  assert.deepEqual(await readdir(join(cache.dir, 'blobs')), []);
});

test('bytes that do not match the digest are refused after one fresh try', async () => {
  const cache = await freshCache();
  const tampered = Buffer.from(blob);
  tampered.writeUInt8(tampered.readUInt8(1000) ^ 0xff, 1000);
  mode = (req, res) => res.end(tampered.subarray(serveRange(req, res, tampered)));
  await assert.rejects(downloadBlob(cache, url, ref, options), (err: unknown) => {
    assert.ok(err instanceof BpfleetError);
    assert.equal(err.code, 'DIGEST_MISMATCH');
    assert.match(err.message, /^fetch acme\/blob@1\.0\.0: digest mismatch: expected sha256:/);
    return true;
  });
  assert.equal(requests.length, 2);
  assert.deepEqual(await readdir(join(cache.dir, 'blobs')), []);
});

test('an unreachable registry fails with FETCH_FAILED after the retries', async () => {
  const cache = await freshCache();
  const port = await freePort();
  await assert.rejects(
    downloadBlob(cache, `http://127.0.0.1:${port}/x`, ref, options),
    (err: unknown) => err instanceof BpfleetError && err.code === 'FETCH_FAILED',
  );
});

test('slow retrieval: a steady trickle below minBytesPerSecond is abandoned, resumed, and given up on', async () => {
  const cache = await freshCache();
  mode = (req, res) => {
    const start = serveRange(req, res);
    let sent = start;
    const tick = setInterval(() => {
      res.write(blob.subarray(sent, sent + 16));
      sent += 16;
    }, 20);
    res.on('close', () => clearInterval(tick));
  };
  await assert.rejects(
    downloadBlob(cache, url, ref, { ...options, attempts: 3, minBytesPerSecond: 10_000 }),
    (err: unknown) => {
      assert.ok(err instanceof BpfleetError);
      assert.equal(err.code, 'FETCH_FAILED');
      assert.match(err.message, /too slow at byte \d+: \d+ B\/s, below 10000 B\/s/);
      return true;
    },
  );
  assert.equal(requests.length, 3);
  // Each attempt resumed where the last one stopped; nothing is under the digest.
  assert.match(requests[2] ?? '', /^bytes=[1-9]\d*-$/);
  assert.equal(await cache.get(ref.digest), undefined);
});
