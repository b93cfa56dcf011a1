#!/usr/bin/env node
// bpfleet-edge: wires config, data directory, storage, keys and the HTTP server (one process or a cluster).
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage, isBpfleetError } from '@bpfleet/sdk/errors';
import { createApp } from './app.js';
import { defaultLimits } from './app-deps.js';
import { collectOrphans } from './blobs/collect-orphans.js';
import type { Catalog } from './catalog/catalog.js';
import { systemClock } from './clock.js';
import { type EdgeConfig, resolveEdgeConfig } from './config.js';
import { secureDataDir } from './data-dir.js';
import { parseEdgeArgs, USAGE } from './edge-args.js';
import { startFleetRuntime } from './fleet/fleet-runtime.js';
import { createRegistryKeys } from './keys.js';
import { assertPortFree, listen, toListenError } from './listen.js';
import { createStderrLogger, type Logger } from './logger.js';
import { ADMIN_TOKEN_SETTING } from './middleware/auth.js';
import { createRegistryMetrics } from './middleware/metrics.js';
import { createNodeListener } from './node-listener.js';
import { openBlobStore, openCatalog } from './open-storage.js';
import { loadOrCreateRegistryKey } from './registry-key-file.js';
import { ORPHAN_GRACE_MS } from './routes/system-routes.js';
import { createEdgeHttpsServer } from './tls/https-server.js';
import { readServerTls } from './tls/server-tls.js';
import { ADMIN_TOKEN_PREFIX, generateToken, hashToken } from './tokens.js';

/**
 * Once per start, in the main process: data directory modes, migrations, registry key, orphan collection.
 * Returns the admin token step (run once the ports are held, so a failed start never makes a token it does not
 * show) and the release function.
 */
async function prepare(
  config: EdgeConfig,
  logger: Logger,
): Promise<{ generateAdminToken: () => Promise<void>; release: () => void }> {
  const tightened = await secureDataDir(config.dataDir);
  if (tightened.length > 0) logger.warn('data directory modes tightened', { paths: tightened });
  const catalog = await openCatalog(config);
  const blobs = await openBlobStore(config);
  const { key, created } = await loadOrCreateRegistryKey(config.dataDir);
  if (created) logger.info('registry key generated', { keyId: key.keyId });
  // A configured token is stored before the ports open, so a client that sees the port never meets a 401.
  if (config.adminToken) await catalog.setSetting(ADMIN_TOKEN_SETTING, hashToken(config.adminToken));
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
  return {
    generateAdminToken: () => generateAdminToken(catalog),
    release: () => {
      clearInterval(timer);
      void catalog.close();
    },
  };
}

/** Without a configured token, one is made on the first start that holds its ports. */
async function generateAdminToken(catalog: Catalog): Promise<void> {
  if (!(await catalog.getSetting(ADMIN_TOKEN_SETTING))) {
    const token = generateToken(ADMIN_TOKEN_PREFIX);
    await catalog.setSetting(ADMIN_TOKEN_SETTING, hashToken(token));
    // Printed once: only its hash is kept.
    process.stdout.write(`admin token (shown once, store it now): ${token}\n`);
  }
}

interface HttpServing {
  address: AddressInfo;
  stop: () => Promise<void>;
}

/** Serves HTTP from this process once its ports are held; a busy port rejects with a ListenError. */
async function serveHttp(
  config: EdgeConfig,
  logger: Logger,
  announce: boolean,
  withFleet: boolean,
): Promise<HttpServing> {
  const catalog = await openCatalog(config);
  const blobs = await openBlobStore(config);
  const { key } = await loadOrCreateRegistryKey(config.dataDir);
  const metrics = createRegistryMetrics({ processMetrics: true });
  const tls = config.tls ? await readServerTls(config.tls) : undefined;
  const fleet = withFleet
    ? await startFleetRuntime({
        fleet: config.fleet,
        dataDir: config.dataDir,
        catalog,
        logger,
        brokerHost: config.host,
        brokerPort: config.brokerPort,
        broker: config.broker,
        brokerDynsec: config.broker?.dynsec,
        operatorKeyFiles: config.operatorKeys,
        operatorThreshold: config.operatorThreshold,
        metrics: metrics.registry,
        ...(tls && { tls }),
        ...(config.deviceCertLifetimeMs !== undefined && {
          deviceCertLifetimeMs: config.deviceCertLifetimeMs,
        }),
      }).catch((err: unknown) => {
        throw toListenError(err, 'broker port', config.host, config.brokerPort);
      })
    : undefined;
  if (fleet && announce)
    process.stdout.write(`mqtt broker ${fleet.deps.brokerUrl} (fleet ${config.fleet})\n`);
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
  const listener = createNodeListener(registry, metrics);
  const server = tls
    ? await createEdgeHttpsServer(tls, listener, fleet?.deps)
    : createServer({ maxHeaderSize: 64 * 1024 }, listener);
  // A fleet asks at once (a policy reaches every device within a second): with Node's default backlog of 511,
  // connections past it are dropped and retried by the kernel a second or more later.
  const stopRest = () =>
    Promise.resolve(fleet?.stop())
      .catch((err) => logger.error('fleet stop failed', { error: errorMessage(err) }))
      .finally(() => catalog.close());
  const address = await listen(server, { port: config.port, host: config.host, backlog: 8192 }).catch(
    async (err: unknown) => {
      await stopRest();
      throw err;
    },
  );
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => {
        stopRest().finally(resolve);
      });
    });
  return { address, stop };
}

function announceListening(logger: Logger, address: string, port: number, config: EdgeConfig): void {
  const url = `${config.tls ? 'https' : 'http'}://${address}:${port}`;
  logger.info('listening', {
    url,
    dataDir: config.dataDir,
    workers: config.workers,
  });
  process.stdout.write(`listening on ${url}\n`);
}

function version(): string {
  const path = new URL('../package.json', import.meta.url);
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

async function main(): Promise<void> {
  // Everything the edge creates (databases and their -wal/-shm, keys, blobs) is private to its user.
  process.umask(0o077);
  const command = parseEdgeArgs(process.argv.slice(2));
  if (command.kind === 'help') return void process.stdout.write(USAGE);
  if (command.kind === 'version') return void process.stdout.write(`bpfleet-edge ${version()}\n`);
  const logger = createStderrLogger();
  const config = await resolveEdgeConfig(command.flags, process.env);
  if (cluster.isWorker) {
    const { stop } = await serveHttp(config, logger, false, false);
    process.once('SIGTERM', () => stop().finally(() => process.exit(0)));
    return;
  }
  const { generateAdminToken: showAdminToken, release } = await prepare(config, logger);
  let stopping = false;
  let stopHttp: (() => Promise<void>) | undefined;
  if (config.workers <= 1) {
    const serving = await serveHttp(config, logger, true, true);
    stopHttp = serving.stop;
    await showAdminToken();
    announceListening(logger, serving.address.address, serving.address.port, config);
  } else {
    await assertPortFree(config.host, config.port);
    await showAdminToken();
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
  // Usage mistakes exit 2 with the usage, as the bpfleet CLI does; every other failure 1.
  if (isBpfleetError(err) && err.code === 'USAGE') {
    process.stderr.write(`\n${USAGE}`);
    process.exit(2);
  }
  process.exit(1);
});
