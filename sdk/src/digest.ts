// Content digests: everything in bpfleet refers to bytes as `sha256:<64 hex>`.
import { createHash } from 'node:crypto';

export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST_PATTERN.test(value);
}

/** The hex part of a digest, for file names in content-addressed stores. */
export function digestHex(digest: string): string {
  if (!isDigest(digest)) throw new TypeError(`not a sha256 digest: ${JSON.stringify(digest)}`);
  return digest.slice('sha256:'.length);
}
