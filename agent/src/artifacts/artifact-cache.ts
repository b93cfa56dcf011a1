// Content-addressed cache of downloaded blobs: `<dir>/blobs/<hex>` complete and checked, `<dir>/partial/<hex>` in flight.
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex, sha256Digest } from '@bpfleet/sdk/digest';

export class ArtifactCache {
  constructor(readonly dir: string) {}

  blobPath(digest: string): string {
    return join(this.dir, 'blobs', digestHex(digest));
  }

  partialPath(digest: string): string {
    return join(this.dir, 'partial', digestHex(digest));
  }

  async init(): Promise<void> {
    await mkdir(join(this.dir, 'blobs'), { recursive: true, mode: 0o700 });
    await mkdir(join(this.dir, 'partial'), { recursive: true, mode: 0o700 });
  }

  /** The cached bytes, re-hashed on every read: a corrupted entry is dropped and reported as absent. */
  async get(digest: string): Promise<Uint8Array | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.blobPath(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    if (sha256Digest(bytes) === digest) return bytes;
    await unlink(this.blobPath(digest)).catch(() => {});
    return undefined;
  }

  /** Bytes already downloaded for `digest`. */
  async partialSize(digest: string): Promise<number> {
    try {
      return (await stat(this.partialPath(digest))).size;
    } catch {
      return 0;
    }
  }

  async dropPartial(digest: string): Promise<void> {
    await unlink(this.partialPath(digest)).catch(() => {});
  }

  /** Hashes the finished partial file; on a match, moves it into place durably. Returns the digest found. */
  async commitPartial(digest: string): Promise<string> {
    const path = this.partialPath(digest);
    const hash = createHash('sha256');
    const file = await open(path, 'r+');
    try {
      for await (const chunk of file.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
      await file.sync();
    } finally {
      await file.close();
    }
    const found = `sha256:${hash.digest('hex')}`;
    if (found !== digest) return found;
    await rename(path, this.blobPath(digest));
    const dir = await open(join(this.dir, 'blobs'), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    return found;
  }
}
