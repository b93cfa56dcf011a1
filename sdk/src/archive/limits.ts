// Bounds on what unpacking will read, so a hostile archive costs at most this much memory and time.

export interface ArchiveLimits {
  /** Bytes read from the source (the .tgz itself). */
  maxCompressedBytes: number;
  /** Bytes out of gunzip: the whole tar stream, headers and padding included. */
  maxTotalBytes: number;
  maxEntries: number;
  maxEntryBytes: number;
}

export const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  maxCompressedBytes: 64 * 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
  maxEntries: 64,
  maxEntryBytes: 16 * 1024 * 1024,
});
