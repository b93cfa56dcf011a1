#!/usr/bin/env node
// bpfleet-edge: wires config, data directory, storage, keys and the HTTP server (one process or a cluster).
import cluster from 'node:cluster';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { errorMessage } from '@bpfleet/sdk/errors';
import { createApp } from './app.js';
import { defaultLimits } from './app-deps.js';
import { collectOrphans } from './blobs/collect-orphans.js';
import { createFsBlobStore } from './blobs/fs-blob-store.js';
import type { Catalog } from './catalog/catalog.js';
import { openSqliteCatalog } from './catalog/sqlite-catalog.js';
import { systemClock } from './clock.js';
import { type EdgeConfig, loadEdgeConfig } from './config.js';
import { startFleetRuntime } from './fleet/fleet-runtime.js';
import { createRegistryKeys } from './keys.js';
import { createJsonLogger, type Logger } from './logger.js';
import { ADMIN_TOKEN_SETTING } from './middleware/auth.js';
import { createRegistryMetrics } from './middleware/metrics.js';
import { createNodeListener } from './node-listener.js';
import { loadOrCreateRegistryKey } from './registry-key-file.js';
import { ORPHAN_GRACE_MS } from './routes/system-routes.js';
import { ADMIN_TOKEN_PREFIX, generateToken, hashToken } from './tokens.js';

const catalogPath = (config: EdgeConfig) => join(config.dataDir, 'catalog.db');
const blobDir = (config: EdgeConfig) => join(config.dataDir, 'blobs');

/** Once per start, in the main process: migrations, registry key, admin token, orphan collection. */
async function prepare(config: EdgeConfig, logger: Logger): Promise<() => void> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const catalog = openSqliteCatalog(catalogPath(config));
  const blobs = await createFsBlobStore(blobDir(config));
  const { key, created } = await loadOrCreateRegistryKey(config.dataDir);
  if (created) logger.info('registry key generated', { keyId: key.keyId });
  await setAdminToken(catalog, config);
  const collect = async () => {
    const result = await collectOrphans(catalog, blobs, new Date(Date.now() - ORPHAN_GRACE_MS));
    if (result.orphans + result.staging > 0) logger.info('orphans collected', { ...result });
  };
  await collect();
  const timer = setInterval(
    () => collect().catch((err) => logger.error('gc failed', { error: errorMessage(err) })),
    3_600_000,
  );
  timer.unref();
  return () => {
    clearInterval(timer);
    void catalog.close();
  };
}

async function setAdminToken(catalog: Catalog, config: EdgeConfig): Promise<void> {
  if (config.adminToken) {
    await catalog.setSetting(ADMIN_TOKEN_SETTING, hashToken(config.adminToken));
  } else if (!(await catalog.getSetting(ADMIN_TOKEN_SETTING))) {
    const token = generateToken(ADMIN_TOKEN_PREFIX);
    await catalog.setSetting(ADMIN_TOKEN_SETTING, hashToken(token));
    // Printed once: only its hash is kept.
    process.stdout.write(`admin token (shown once, store it now): ${token}\n`);
  }
}

/** Serves HTTP from this process; resolves to a stop function. */
async function serveHttp(
  config: EdgeConfig,
  logger: Logger,
  announce: boolean,
  withFleet: boolean,
): Promise<() => Promise<void>> {
  const catalog = openSqliteCatalog(catalogPath(config));
  const blobs = await createFsBlobStore(blobDir(config));
  const { key } = await loadOrCreateRegistryKey(config.dataDir);
  const fleet = withFleet
    ? await startFleetRuntime({
        fleet: config.fleet,
        dataDir: config.dataDir,
        catalog,
        logger,
        brokerHost: config.host,
        brokerPort: config.brokerPort,
        broker: config.broker,
        operatorKeyFiles: config.operatorKeys,
      })
    : undefined;
  if (fleet && announce)
    process.stdout.write(`mqtt broker ${fleet.deps.brokerUrl} (fleet ${config.fleet})\n`);
  const metrics = createRegistryMetrics({ processMetrics: true });
  const registry = createApp({
    catalog,
    blobs,
    keys: createRegistryKeys(key),
    clock: systemClock,
    logger,
    metrics,
    limits: { ...defaultLimits, maxPackageBytes: config.maxPackageBytes },
    indexTtlMs: config.indexTtlMs,
    fleet: fleet?.deps,
  });
  // The bundle travels in a header: allow a little more than Node's 16 KiB default.
  const server = createServer({ maxHeaderSize: 64 * 1024 }, createNodeListener(registry, metrics));
  // A fleet asks at once (a policy reaches every device within a second): with Node's default backlog of 511,
  // connections past it are dropped and retried by the kernel a second or more later.
  server.listen({ port: config.port, host: config.host, backlog: 8192 }, () => {
    const address = server.address() as AddressInfo;
    if (announce) announceListening(logger, address.address, address.port, config);
  });
  return () =>
    new Promise((resolve) => {
      server.close(() => {
        Promise.resolve(fleet?.stop())
          .catch((err) => logger.error('fleet stop failed', { error: errorMessage(err) }))
          .finally(() => catalog.close().finally(resolve));
      });
    });
}

function announceListening(logger: Logger, address: string, port: number, config: EdgeConfig): void {
  logger.info('listening', {
    url: `http://${address}:${port}`,
    dataDir: config.dataDir,
    workers: config.workers,
  });
  process.stdout.write(`listening on http://${address}:${port}\n`);
}

async function main(): Promise<void> {
  const logger = createJsonLogger((line) => process.stderr.write(line));
  const config = await loadEdgeConfig(process.argv.slice(2), process.env);
  if (cluster.isWorker) {
    const stop = await serveHttp(config, logger, false, false);
    process.once('SIGTERM', () => stop().finally(() => process.exit(0)));
    return;
  }
  const release = await prepare(config, logger);
  let stopping = false;
  let stopHttp: (() => Promise<void>) | undefined;
  if (config.workers <= 1) {
    stopHttp = await serveHttp(config, logger, true, true);
  } else {
    // The fleet controller and broker hold per-process state: they run with a single HTTP process only.
    logger.warn('fleet API, broker and rollouts are off with --workers > 1 (registry only)');
    // Workers share the port (port 0 included: the primary hands all of them the same one).
    let announced = false;
    cluster.on('listening', (_worker, address) => {
      if (announced) return;
      announced = true;
      announceListening(logger, address.address ?? config.host, address.port, config);
    });
    cluster.on('exit', (worker, code, signal) => {
      if (stopping) return;
      logger.error('worker died, starting another', { pid: worker.process.pid, code, signal });
      cluster.fork();
    });
    for (let i = 0; i < config.workers; i++) cluster.fork();
  }
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    const workers = Object.values(cluster.workers ?? {});
    for (const worker of workers) worker?.process.kill('SIGTERM');
    Promise.all([
      stopHttp?.(),
      ...workers.map(
        (w) => new Promise((resolve) => (w?.isDead() ? resolve(null) : w?.once('exit', resolve))),
      ),
    ]).finally(() => {
      release();
      process.exit(0);
    });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`bpfleet-edge: ${errorMessage(err)}\n`);
  process.exit(1);
});
