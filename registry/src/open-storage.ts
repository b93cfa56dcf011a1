// Opens the edge's catalog and blob store from its config: the embedded defaults, or PostgreSQL and S3.
import { join } from 'node:path';
import type { BlobStore } from './blobs/blob-store.js';
import { createFsBlobStore } from './blobs/fs-blob-store.js';
import { createS3BlobStore } from './blobs/s3-blob-store.js';
import type { Catalog } from './catalog/catalog.js';
import { openPgCatalog } from './catalog/pg-catalog.js';
import { openSqliteCatalog } from './catalog/sqlite-catalog.js';
import type { StorageConfig } from './storage-config.js';

export async function openCatalog(config: StorageConfig & { dataDir: string }): Promise<Catalog> {
  if (!config.database) return openSqliteCatalog(join(config.dataDir, 'catalog.db'));
  const url = new URL(config.database.url);
  if (config.database.password) url.password = encodeURIComponent(config.database.password);
  return openPgCatalog(url.toString());
}

export async function openBlobStore(config: StorageConfig & { dataDir: string }): Promise<BlobStore> {
  return config.blobs ? createS3BlobStore(config.blobs) : createFsBlobStore(join(config.dataDir, 'blobs'));
}
