// An LRU of small blobs in memory. Blobs are content-addressed, so a cached copy can never be stale.
export class BlobCache {
  readonly #entries = new Map<string, Buffer>();
  #bytes = 0;

  constructor(
    readonly maxItemBytes: number,
    readonly maxTotalBytes: number,
  ) {}

  get(digest: string): Buffer | undefined {
    const value = this.#entries.get(digest);
    if (value) {
      // Re-insert to mark as most recently used.
      this.#entries.delete(digest);
      this.#entries.set(digest, value);
    }
    return value;
  }

  set(digest: string, bytes: Buffer): void {
    if (bytes.length > this.maxItemBytes || this.#entries.has(digest)) return;
    this.#entries.set(digest, bytes);
    this.#bytes += bytes.length;
    for (const [key, value] of this.#entries) {
      if (this.#bytes <= this.maxTotalBytes) break;
      this.#entries.delete(key);
      this.#bytes -= value.length;
    }
  }

  get size(): number {
    return this.#bytes;
  }
}
