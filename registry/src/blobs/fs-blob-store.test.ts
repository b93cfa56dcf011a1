// Runs the BlobStore contract against the filesystem store in a temp directory, plus its crash behaviour.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runBlobStoreContract } from './blob-store-contract.js';
import { createFsBlobStore } from './fs-blob-store.js';

runBlobStoreContract('filesystem', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bpfleet-blobs-'));
  return { store: await createFsBlobStore(dir), close: () => rm(dir, { recursive: true, force: true }) };
});

test('a temp file left by a crash is swept, a blob is not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bpfleet-blobs-'));
  try {
    const store = await createFsBlobStore(dir);
    await writeFile(join(dir, 'tmp', 'left-by-kill-9'), 'half an upload');
    assert.equal(await store.sweepStaging(new Date(Date.now() + 1000)), 1);
    assert.deepEqual(await readdir(join(dir, 'tmp')), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
