import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { createGzip } from 'node:zlib';
import { ArchiveError } from '../errors.js';
import { fileHeader } from './tar-fixtures.js';
import { unpackArchive } from './unpack-archive.js';

const GIB = 1024 ** 3;
const CHUNK = 1024 * 1024;

/** `prefix` then zeros up to `total` bytes, gzip'd as it is read: the bomb exists only as far as it is pulled. */
function streamingBomb(prefix: Buffer, total: number): { source: Readable; produced: () => number } {
  let produced = 0;
  let prefixSent = false;
  const zeros = Buffer.alloc(CHUNK);
  const plain = new Readable({
    read() {
      if (produced >= total) return void this.push(null);
      const chunk = prefixSent ? zeros.subarray(0, Math.min(CHUNK, total - produced)) : prefix;
      prefixSent = true;
      produced += chunk.length;
      this.push(chunk);
    },
  });
  return { source: plain.pipe(createGzip({ level: 9 })), produced: () => produced };
}

/** Peak growth of RSS while `run` goes, sampled on a timer. */
async function peakRssGrowth(run: () => Promise<unknown>): Promise<number> {
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 2);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage().rss) - base;
}

test('a 1 GiB gzip bomb stops at the decompressed limit without buffering it', async () => {
  const bomb = streamingBomb(Buffer.alloc(CHUNK), GIB);
  let error: unknown;
  const growth = await peakRssGrowth(async () => {
    error = await unpackArchive(bomb.source).catch((err: unknown) => err);
  });
  bomb.source.destroy();
  assert.ok(error instanceof ArchiveError && error.code === 'ARCHIVE_TOO_LARGE', String(error));
  // Stopped near the 64 MiB limit: far from the 1 GiB the bomb holds.
  assert.ok(bomb.produced() < 256 * 1024 * 1024, `inflated ${bomb.produced()} bytes`);
  assert.ok(growth < 96 * 1024 * 1024, `RSS grew by ${growth} bytes`);
});

test('an entry declaring a huge size is refused at its header', async () => {
  // A header saying 1 GiB, then the zeros to back it: refused before any of its data is read.
  const header = await fileHeader('bpf/any/fw.bpf.o', GIB);
  const bomb = streamingBomb(header, GIB + 512);
  const error = await unpackArchive(bomb.source).catch((err: unknown) => err);
  bomb.source.destroy();
  assert.ok(error instanceof ArchiveError && error.code === 'ENTRY_TOO_LARGE', String(error));
  assert.ok(bomb.produced() < 16 * 1024 * 1024, `inflated ${bomb.produced()} bytes`);
});
