// Reliability: the artifact cache on a full disk (a 1 MiB tmpfs, unmounted even when the test fails). The
// download fails with CACHE_FULL, nothing is ever visible under the digest, and it completes once space is back.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, openSync, readdirSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { BpfleetError } from '@bpfleet/sdk/errors';
import { silentLogger } from '../logger.js';
import { ArtifactCache } from './artifact-cache.js';
import { downloadBlob } from './http-download.js';

const bytes = randomBytes(600_000);
const ref = { label: 'acme/big@1.0.0', digest: sha256Digest(bytes), size: bytes.length };
const options = {
  attempts: 2,
  backoff: { initialMs: 1, maxMs: 2 },
  stallTimeoutMs: 5000,
  logger: silentLogger,
};
let root = '';
let disk = '';
let mounted = false;
let url = '';
const server = createServer((req, res) => {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = m ? Number(m[1]) : 0;
  res.writeHead(m ? 206 : 200, {
    'content-length': String(bytes.length - start),
    ...(m ? { 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {}),
  });
  res.end(bytes.subarray(start));
});

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'bpfleet-full-cache-'));
  disk = join(root, 'disk');
  execFileSync('mkdir', [disk]);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', disk]);
  mounted = true;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/blobs/${ref.digest}`;
});
after(async () => {
  server.closeAllConnections();
  server.close();
  if (mounted && spawnSync('umount', [disk]).status !== 0) spawnSync('umount', ['-l', disk]);
  await rm(root, { recursive: true, force: true });
});

/** Writes random bytes to `path` until the disk refuses (ENOSPC). */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (let chunk = 64 * 1024; chunk >= 1; ) {
      try {
        writeSync(fd, randomBytes(chunk));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        chunk = Math.floor(chunk / 2);
      }
    }
  } finally {
    closeSync(fd);
  }
}

test('a full cache disk: CACHE_FULL, nothing under the digest, then resumes and completes once space is back', async () => {
  const cache = new ArtifactCache(join(disk, 'cache'));
  await cache.init();
  // Room for part of the blob only: the download gets some way, then the disk refuses.
  const filler = join(disk, 'filler');
  fill(filler);
  await rm(filler);
  fill(join(disk, 'keep'));
  execFileSync('truncate', ['-s', '-500K', join(disk, 'keep')]);
  await assert.rejects(downloadBlob(cache, url, ref, options), (err: unknown) => {
    assert.ok(err instanceof BpfleetError, String(err));
    assert.equal(err.code, 'CACHE_FULL');
    assert.match(err.message, /^fetch acme\/big@1\.0\.0: /);
    return true;
  });
  assert.equal(await cache.get(ref.digest), undefined, 'nothing under the digest');
  assert.deepEqual(readdirSync(join(disk, 'cache', 'blobs')), []);
  const kept = await cache.partialSize(ref.digest);
  assert.ok(kept > 0 && kept < bytes.length, `a partial of ${kept} bytes waits to be resumed`);

  await rm(join(disk, 'keep'));
  const got = await downloadBlob(cache, url, ref, options);
  assert.ok(Buffer.from(got).equals(bytes));
  assert.deepEqual(readdirSync(join(disk, 'cache', 'partial')), []);
  assert.deepEqual(readdirSync(join(disk, 'cache', 'blobs')), [ref.digest.slice('sha256:'.length)]);
});
