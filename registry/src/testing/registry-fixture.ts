// A registry for tests: SQLite in memory, a temp blob dir, a manual clock, an admin token, helpers to seed it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type RegistryApp } from '../app.js';
import { type AppDeps, DEFAULT_INDEX_TTL_MS, defaultLimits, type RegistryLimits } from '../app-deps.js';
import type { BlobStore } from '../blobs/blob-store.js';
import { createFsBlobStore } from '../blobs/fs-blob-store.js';
import type { Catalog } from '../catalog/catalog.js';
import { openSqliteCatalog } from '../catalog/sqlite-catalog.js';
import { createManualClock } from '../clock.js';
import type { RegistryKeys } from '../keys.js';
import { silentLogger } from '../logger.js';
import { ADMIN_TOKEN_SETTING } from '../middleware/auth.js';
import { createRegistryMetrics } from '../middleware/metrics.js';
import { ADMIN_TOKEN_PREFIX, generateToken, hashToken } from '../tokens.js';

export interface RegistryFixture extends RegistryApp {
  deps: AppDeps;
  catalog: Catalog;
  blobs: BlobStore;
  clock: ReturnType<typeof createManualClock>;
  adminToken: string;
  blobDir: string;
  request(path: string, init?: RequestInit & { token?: string }): Promise<Response>;
  close(): Promise<void>;
}

export interface FixtureOptions {
  keys: RegistryKeys;
  limits?: Partial<RegistryLimits>;
  indexTtlMs?: number;
  /** A catalog file path instead of :memory:. */
  catalogPath?: string;
  blobDir?: string;
}

export async function createRegistryFixture(options: FixtureOptions): Promise<RegistryFixture> {
  const blobDir = options.blobDir ?? (await mkdtemp(join(tmpdir(), 'bpfleet-registry-')));
  const catalog = openSqliteCatalog(options.catalogPath ?? ':memory:');
  const blobs = await createFsBlobStore(blobDir);
  const clock = createManualClock(new Date('2026-03-01T12:00:00Z'));
  const adminToken = generateToken(ADMIN_TOKEN_PREFIX);
  await catalog.setSetting(ADMIN_TOKEN_SETTING, hashToken(adminToken));
  const deps: AppDeps = {
    catalog,
    blobs,
    keys: options.keys,
    clock,
    logger: silentLogger,
    metrics: createRegistryMetrics(),
    limits: { ...defaultLimits, ...options.limits },
    indexTtlMs: options.indexTtlMs ?? DEFAULT_INDEX_TTL_MS,
  };
  const registry = createApp(deps);
  return {
    ...registry,
    deps,
    catalog,
    blobs,
    clock,
    adminToken,
    blobDir,
    request(path, init = {}) {
      const { token, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token) headers.set('authorization', `Bearer ${token}`);
      return Promise.resolve(registry.app.request(path, { ...rest, headers }));
    },
    async close() {
      await catalog.close();
      if (!options.blobDir) await rm(blobDir, { recursive: true, force: true });
    },
  };
}

/** Creates a namespace and a publish token for it through the API; returns the token secret. */
export async function seedNamespace(fx: RegistryFixture, ns: string): Promise<string> {
  const created = await fx.request('/v1/namespaces', {
    method: 'POST',
    token: fx.adminToken,
    body: JSON.stringify({ name: ns }),
    headers: { 'content-type': 'application/json' },
  });
  if (created.status !== 201)
    throw new Error(`seed namespace ${ns}: ${created.status} ${await created.text()}`);
  const issued = await fx.request(`/v1/namespaces/${ns}/tokens`, {
    method: 'POST',
    token: fx.adminToken,
    body: JSON.stringify({ label: 'test' }),
    headers: { 'content-type': 'application/json' },
  });
  const body = (await issued.json()) as { token: string };
  return body.token;
}

export const jsonBody = (value: unknown): RequestInit => ({
  body: JSON.stringify(value),
  headers: { 'content-type': 'application/json' },
});
