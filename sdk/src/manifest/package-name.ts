// Package names `namespace/name`, ids `namespace/name@version`, and the manifest digest.
import { sha256Digest } from '../digest.js';
import { ManifestError } from '../errors.js';
import type { Manifest } from './types.js';

const NAME_PART = /^[a-z][a-z0-9-]{0,63}$/;

export function isValidNamePart(part: string): boolean {
  return NAME_PART.test(part);
}

export function isValidPackageName(name: unknown): name is string {
  if (typeof name !== 'string') return false;
  const parts = name.split('/');
  return parts.length === 2 && parts.every(isValidNamePart);
}

export function splitPackageName(name: string): { namespace: string; name: string } {
  if (!isValidPackageName(name)) {
    throw new ManifestError(
      'INVALID_NAME',
      'name',
      `expected namespace/name (each 1-64 of a-z, 0-9, -, starting with a letter), got ${JSON.stringify(name)}`,
    );
  }
  const [namespace = '', local = ''] = name.split('/');
  return { namespace, name: local };
}

export function packageId(manifest: Pick<Manifest, 'name' | 'version'>): string {
  return `${manifest.name}@${manifest.version}`;
}

/** sha256 of the exact manifest.json bytes, as the signature's predicate records it. */
export function manifestDigest(bytes: Uint8Array | string): string {
  return sha256Digest(bytes);
}
