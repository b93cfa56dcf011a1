// Reliability: downloads cut at random bytes, again and again, sometimes across a "restart" (a new cache object
// over the same directory and a fresh downloadBlob call): they resume with Range, and no corrupt or partial
// entry is ever visible under a digest. 200 downloads in `npm test`, 2,000 in the long suite.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { BpfleetError } from '@bpfleet/sdk/errors';
import { reliabilityRuns } from '@bpfleet/sdk/testing/reliability-runs';
import { silentLogger } from '../logger.js';
import { ArtifactCache } from './artifact-cache.js';
import { downloadBlob } from './http-download.js';

const DOWNLOADS = reliabilityRuns(200, 2_000);
const seed = Number(process.env.BPFLEET_SEED ?? Date.now() % 2 ** 31);
let state = seed || 1;
/** xorshift32: the run is reproducible from the seed printed in the test output. */
function random(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
}
const below = (n: number) => Math.floor(random() * n);

const blobs = new Map<string, Buffer>();
let requests = 0;
let cuts = 0;
let root = '';
let url = '';
/** Checked on every request for the blob requested: whatever sits under its digest hashes to it. */
let cacheDir = '';
const violations: string[] = [];

function checkCache(digests: Iterable<string> = blobs.keys()): void {
  const dir = join(cacheDir, 'blobs');
  if (!existsSync(dir)) return;
  for (const digest of digests) {
    const path = join(dir, digest.slice('sha256:'.length));
    if (!existsSync(path)) continue;
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      continue;
    }
    if (sha256Digest(bytes) !== digest) violations.push(`${digest}: ${bytes.length} bytes that do not match`);
  }
}

// Serves /<digest> with Range; cuts the connection at a random byte of the body on most requests.
const server = createServer((req, res) => {
  requests++;
  const digest = (req.url ?? '').slice(1);
  checkCache([digest]);
  const blob = blobs.get(digest);
  if (!blob) return res.writeHead(404).end();
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = m ? Number(m[1]) : 0;
  if (start > blob.length) return res.writeHead(416).end();
  res.writeHead(m ? 206 : 200, {
    'content-length': String(blob.length - start),
    ...(m ? { 'content-range': `bytes ${start}-${blob.length - 1}/${blob.length}` } : {}),
  });
  const rest = blob.subarray(start);
  if (random() < 0.3 || rest.length === 0) return res.end(rest);
  cuts++;
  const cut = below(rest.length);
  res.write(rest.subarray(0, cut), () => res.socket?.destroy());
});

before(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  root = await mkdtemp(join(tmpdir(), 'bpfleet-interrupted-'));
  cacheDir = join(root, 'cache');
});
after(async () => {
  server.closeAllConnections();
  server.close();
  await rm(root, { recursive: true, force: true });
});

test(`${DOWNLOADS} downloads cut at random bytes resume to the exact bytes; no corrupt or partial entry is ever visible`, async (t) => {
  t.diagnostic(`seed ${seed} (BPFLEET_SEED=${seed} replays this run)`);
  let restarts = 0;
  for (let i = 0; i < DOWNLOADS; i++) {
    // Sizes from 1 byte to ~300 KiB, so cuts land in the first chunk, mid-stream and at the last byte.
    const bytes = randomBytes(1 + below(random() < 0.2 ? 64 : 300 * 1024));
    const digest = sha256Digest(bytes);
    blobs.set(digest, bytes);
    const ref = { label: `acme/blob@${i}`, digest, size: bytes.length };
    // A device that restarts mid-download runs out of attempts here and starts again with a new cache object.
    let got: Uint8Array | undefined;
    for (let run = 0; got === undefined; run++) {
      assert.ok(run < 50, `download ${i} never completed`);
      const cache = new ArtifactCache(cacheDir);
      await cache.init();
      const attempts = 1 + below(6);
      try {
        got = await downloadBlob(cache, `${url}/${digest}`, ref, {
          attempts,
          backoff: { initialMs: 1, maxMs: 4 },
          stallTimeoutMs: 5_000,
          logger: silentLogger,
        });
      } catch (err) {
        assert.ok(err instanceof BpfleetError, String(err));
        assert.equal(err.code, 'FETCH_FAILED', err.message);
        restarts++;
        // Interrupted: nothing is under the digest yet, the bytes so far wait in partial/.
        assert.equal(await cache.get(digest), undefined);
      }
    }
    assert.ok(Buffer.from(got).equals(bytes), `download ${i}: bytes differ`);
    const cache = new ArtifactCache(cacheDir);
    assert.ok(Buffer.from((await cache.get(digest)) ?? []).equals(bytes), `download ${i}: cache entry`);
    assert.deepEqual(await readdir(join(cacheDir, 'partial')), [], `download ${i}: a partial file was left`);
  }
  checkCache();
  assert.deepEqual(violations, []);
  // Every entry in the cache is one of ours and whole.
  const entries = await readdir(join(cacheDir, 'blobs'));
  assert.equal(entries.length, blobs.size);
  for (const name of entries) {
    const expected = blobs.get(`sha256:${name}`);
    assert.ok(expected && readFileSync(join(cacheDir, 'blobs', name)).equals(expected), name);
  }
  t.diagnostic(`${DOWNLOADS} downloads, ${requests} requests, ${cuts} connections cut, ${restarts} restarts`);
  assert.ok(cuts >= DOWNLOADS / 2, 'the server really cut connections');
});
