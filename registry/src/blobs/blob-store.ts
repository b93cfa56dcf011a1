// BlobStore: package bytes addressed by their sha256 digest; writes are staged and become visible whole.
export interface BlobStat {
  digest: string;
  size: number;
  /** When the blob was committed; orphan collection spares young blobs (a publish may be in flight). */
  modified: Date;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface StageOptions {
  /** Staging fails with BLOB_TOO_LARGE as soon as more bytes than this arrive. */
  maxBytes: number;
}

/** Bytes written somewhere invisible, hashed on the way; `commit` makes them readable by digest. */
export interface StagedBlob {
  readonly digest: string;
  readonly size: number;
  /** Reads the staged bytes back (for verification before anything is visible). */
  read(): AsyncIterable<Uint8Array>;
  /** Durably moves the bytes to their digest; idempotent when the digest already exists. */
  commit(): Promise<void>;
  /** Drops the staged bytes; a no-op after commit. */
  discard(): Promise<void>;
}

export interface BlobStore {
  stage(source: AsyncIterable<Uint8Array>, options: StageOptions): Promise<StagedBlob>;
  stat(digest: string): Promise<BlobStat | undefined>;
  /** The whole blob, or the inclusive range; undefined when absent. */
  read(digest: string, range?: ByteRange): Promise<AsyncIterable<Uint8Array> | undefined>;
  delete(digest: string): Promise<boolean>;
  list(): AsyncIterable<BlobStat>;
  /** Removes staging leftovers older than the given date (a crash mid-upload leaves them). */
  sweepStaging(olderThan: Date): Promise<number>;
}

/** Reads a whole blob into memory; callers bound the size first. */
export async function readBlob(store: BlobStore, digest: string): Promise<Buffer | undefined> {
  const body = await store.read(digest);
  if (!body) return undefined;
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}
