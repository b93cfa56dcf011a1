// Content-addressed cache of downloaded blobs: `<dir>/blobs/<hex>` complete and checked, `<dir>/partial/<hex>` in flight.
import { type FileHandle, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex, sha256Digest } from '@bpfleet/sdk/digest';

export class ArtifactCache {
  // What `init` found plus what this cache wrote since (names are digest hexes): a lookup of something absent,
  // the common case, then costs no failing system call. Only this agent writes its cache directory.
  private blobs: Set<string> | undefined;
  private partials: Set<string> | undefined;

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
    this.blobs = new Set(await readdir(join(this.dir, 'blobs')));
    this.partials = new Set(await readdir(join(this.dir, 'partial')));
  }

  /** The cached bytes, re-hashed on every read: a corrupted entry is dropped and reported as absent. */
  async get(digest: string): Promise<Uint8Array | undefined> {
    if (this.blobs && !this.blobs.has(digestHex(digest))) return undefined;
    let bytes: Buffer;
    try {
      bytes = await readFile(this.blobPath(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    if (sha256Digest(bytes) === digest) return bytes;
    await unlink(this.blobPath(digest)).catch(() => {});
    this.blobs?.delete(digestHex(digest));
    return undefined;
  }

  /** Bytes already downloaded for `digest`. */
  async partialSize(digest: string): Promise<number> {
    if (this.partials && !this.partials.has(digestHex(digest))) return 0;
    try {
      return (await stat(this.partialPath(digest))).size;
    } catch {
      return 0;
    }
  }

  /** Opens the partial file to write from its start (`w`) or to resume it (`a`). */
  async openPartial(digest: string, flags: 'w' | 'a'): Promise<FileHandle> {
    const file = await open(this.partialPath(digest), flags, 0o600);
    this.partials?.add(digestHex(digest));
    return file;
  }

  async dropPartial(digest: string): Promise<void> {
    await unlink(this.partialPath(digest)).catch(() => {});
    this.partials?.delete(digestHex(digest));
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
    this.partials?.delete(digestHex(digest));
    this.blobs?.add(digestHex(digest));
    const dir = await open(join(this.dir, 'blobs'), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
