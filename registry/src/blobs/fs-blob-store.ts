// The filesystem BlobStore: <dir>/sha256/<hex> for blobs, <dir>/tmp/ for staging (temp file, fsync, rename).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex, isDigest } from '@bpfleet/sdk/digest';
import { RegistryError } from '@bpfleet/sdk/errors';
import type { BlobStat, BlobStore, ByteRange, StagedBlob, StageOptions } from './blob-store.js';

export async function createFsBlobStore(dir: string): Promise<BlobStore> {
  const blobDir = join(dir, 'sha256');
  const tmpDir = join(dir, 'tmp');
  await mkdir(blobDir, { recursive: true });
  await mkdir(tmpDir, { recursive: true });
  const pathOf = (digest: string) => join(blobDir, digestHex(digest));

  async function fsyncDir(path: string): Promise<void> {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async function stage(source: AsyncIterable<Uint8Array>, options: StageOptions): Promise<StagedBlob> {
    const tmpPath = join(tmpDir, `${Date.now()}-${randomBytes(8).toString('hex')}`);
    const handle = await open(tmpPath, 'wx', 0o644);
    const hash = createHash('sha256');
    let size = 0;
    let writeError: unknown;
    try {
      for await (const chunk of source) {
        size += chunk.byteLength;
        if (size > options.maxBytes) {
          throw new RegistryError('BLOB_TOO_LARGE', `stage blob: more than ${options.maxBytes} bytes`);
        }
        // After a failed write (a full disk) the rest of the upload is read and dropped, within the size
        // limit: cancelling the body would reset the connection before the client reads the 507.
        if (writeError) continue;
        hash.update(chunk);
        await handle.write(chunk).catch((err: unknown) => {
          writeError = err;
        });
      }
      if (writeError) throw writeError;
      await handle.sync();
    } catch (err) {
      await handle.close().catch(() => {});
      await rm(tmpPath, { force: true });
      throw err;
    }
    await handle.close();
    const digest = `sha256:${hash.digest('hex')}`;
    let state: 'staged' | 'committed' | 'discarded' = 'staged';
    return {
      digest,
      size,
      read: () => createReadStream(tmpPath),
      async commit() {
        if (state !== 'staged') {
          if (state === 'committed') return;
          throw new RegistryError('BLOB_DISCARDED', `commit blob ${digest}: already discarded`);
        }
        // rename is atomic: readers see nothing or the whole fsynced file, never a part.
        await rename(tmpPath, pathOf(digest));
        await fsyncDir(blobDir);
        state = 'committed';
      },
      async discard() {
        if (state !== 'staged') return;
        state = 'discarded';
        await rm(tmpPath, { force: true });
      },
    };
  }

  async function statBlob(digest: string): Promise<BlobStat | undefined> {
    if (!isDigest(digest)) return undefined;
    try {
      const s = await stat(pathOf(digest));
      return { digest, size: s.size, modified: s.mtime };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  return {
    stage,
    stat: statBlob,
    async read(digest: string, range?: ByteRange) {
      if (!(await statBlob(digest))) return undefined;
      return createReadStream(pathOf(digest), range ? { start: range.start, end: range.end } : {});
    },
    async delete(digest: string) {
      if (!isDigest(digest)) return false;
      try {
        await unlink(pathOf(digest));
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw err;
      }
    },
    async *list() {
      for (const name of await readdir(blobDir)) {
        const digest = `sha256:${name}`;
        if (!isDigest(digest)) continue;
        const s = await statBlob(digest);
        if (s) yield s;
      }
    },
    async sweepStaging(olderThan: Date) {
      let removed = 0;
      for (const name of await readdir(tmpDir)) {
        const path = join(tmpDir, name);
        const s = await stat(path).catch(() => undefined);
        if (s && s.mtime < olderThan) {
          await rm(path, { force: true });
          removed++;
        }
      }
      return removed;
    },
  };
}
