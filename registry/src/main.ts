#!/usr/bin/env node
// bpfleet-edge: wires config, data directory, storage, keys and the HTTP server. Nothing else lives here.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '@bpfleet/sdk/errors';
import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import { defaultLimits } from './app-deps.js';
import { collectOrphans } from './blobs/collect-orphans.js';
import { createFsBlobStore } from './blobs/fs-blob-store.js';
import { openSqliteCatalog } from './catalog/sqlite-catalog.js';
import { systemClock } from './clock.js';
import { loadEdgeConfig } from './config.js';
import { createRegistryKeys } from './keys.js';
import { createJsonLogger } from './logger.js';
import { ADMIN_TOKEN_SETTING } from './middleware/auth.js';
import { createRegistryMetrics } from './middleware/metrics.js';
import { loadOrCreateRegistryKey } from './registry-key-file.js';
import { ORPHAN_GRACE_MS } from './routes/system-routes.js';
import { ADMIN_TOKEN_PREFIX, generateToken, hashToken } from './tokens.js';

async function main(): Promise<void> {
  const logger = createJsonLogger((line) => process.stderr.write(line));
  const config = await loadEdgeConfig(process.argv.slice(2), process.env);
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const catalog = openSqliteCatalog(join(config.dataDir, 'catalog.db'));
  const blobs = await createFsBlobStore(join(config.dataDir, 'blobs'));
  const { key, created } = await loadOrCreateRegistryKey(config.dataDir);
  if (created) logger.info('registry key generated', { keyId: key.keyId });

  if (config.adminToken) {
    await catalog.setSetting(ADMIN_TOKEN_SETTING, hashToken(config.adminToken));
  } else if (!(await catalog.getSetting(ADMIN_TOKEN_SETTING))) {
    const token = generateToken(ADMIN_TOKEN_PREFIX);
    await catalog.setSetting(ADMIN_TOKEN_SETTING, hashToken(token));
    // Printed once: only its hash is kept.
    process.stdout.write(`admin token (shown once, store it now): ${token}\n`);
  }

  const collect = async () => {
    const result = await collectOrphans(catalog, blobs, new Date(Date.now() - ORPHAN_GRACE_MS));
    if (result.orphans + result.staging > 0) logger.info('orphans collected', { ...result });
  };
  await collect();
  const gcTimer = setInterval(
    () => collect().catch((err) => logger.error('gc failed', { error: errorMessage(err) })),
    3_600_000,
  );
  gcTimer.unref();

  const { app } = createApp({
    catalog,
    blobs,
    keys: createRegistryKeys(key),
    clock: systemClock,
    logger,
    metrics: createRegistryMetrics({ processMetrics: true }),
    limits: { ...defaultLimits, maxPackageBytes: config.maxPackageBytes },
    indexTtlMs: config.indexTtlMs,
  });
  // The bundle travels in a header: allow a little more than Node's 16 KiB default.
  const server = serve(
    {
      fetch: app.fetch,
      hostname: config.host,
      port: config.port,
      serverOptions: { maxHeaderSize: 64 * 1024 },
    },
    (info) => {
      logger.info('listening', { url: `http://${info.address}:${info.port}`, dataDir: config.dataDir });
      process.stdout.write(`listening on http://${info.address}:${info.port}\n`);
    },
  );

  const shutdown = (signal: string) => {
    logger.info('shutting down', { signal });
    clearInterval(gcTimer);
    server.close(() => {
      catalog.close().finally(() => process.exit(0));
    });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`bpfleet-edge: ${errorMessage(err)}\n`);
  process.exit(1);
});
