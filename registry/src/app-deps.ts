// What the registry app is built from; only main.ts (and tests) construct these.
import type { BlobStore } from './blobs/blob-store.js';
import type { Catalog } from './catalog/catalog.js';
import type { Clock } from './clock.js';
import type { FleetDeps } from './fleet/fleet-deps.js';
import type { RegistryKeys } from './keys.js';
import type { Logger } from './logger.js';
import type { RegistryMetrics } from './middleware/metrics.js';

export interface RegistryLimits {
  /** Largest package archive accepted by publish (413 beyond). */
  maxPackageBytes: number;
  /** Largest bundle accepted by publish. */
  maxBundleBytes: number;
  /** Blobs up to this size are kept in memory once read (content-addressed, so never stale). */
  cacheBlobBytes: number;
  /** Total memory for cached blobs. */
  cacheTotalBytes: number;
}

export interface AppDeps {
  catalog: Catalog;
  blobs: BlobStore;
  keys: RegistryKeys;
  clock: Clock;
  logger: Logger;
  metrics: RegistryMetrics;
  limits: RegistryLimits;
  /** How long a signed index stays valid; it is re-signed when half of that has passed. */
  indexTtlMs: number;
  /** The fleet API (devices, policies, rollouts); absent in a registry-only edge. */
  fleet?: FleetDeps;
}

export const defaultLimits: RegistryLimits = {
  maxPackageBytes: 64 * 1024 * 1024,
  maxBundleBytes: 64 * 1024,
  cacheBlobBytes: 4 * 1024 * 1024,
  cacheTotalBytes: 256 * 1024 * 1024,
};

export const DEFAULT_INDEX_TTL_MS = 24 * 60 * 60 * 1000;
