// Content-addressed cache of downloaded blobs: `<dir>/blobs/<hex>` complete and checked, `<dir>/partial/<hex>` in flight.
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

  /** The bytes downloaded so far for `digest`. */
  async readPartial(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.partialPath(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
      throw err;
    }
  }

  /**
   * Moves a finished partial file into place under its digest, durably. The caller hashed the bytes it wrote and
   * synced the file; `get` re-hashes on every read, so an entry damaged later is still caught.
   */
  async commitPartial(digest: string): Promise<void> {
    await rename(this.partialPath(digest), this.blobPath(digest));
    const dir = await open(join(this.dir, 'blobs'), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
