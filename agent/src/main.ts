#!/usr/bin/env node
// bpfleet-agent: wires config, host probe, kernel loader, MQTT session and metrics; stops without detaching.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkRequires, onLibbpfWarning, probeHost } from '@bpfleet/sdk/bpf';
import { errorMessage } from '@bpfleet/sdk/errors';
import { ConfigKeyError } from './config/agent-config.js';
import { loadAgentConfig, USAGE } from './config/load-config.js';
import { BpfLoader } from './deployments/bpf-loader.js';
import { DeploymentMetaStore } from './deployments/deployment-meta.js';
import { PinRootError, preparePinRoot } from './deployments/pin-root.js';
import { startEventStreams } from './events/start-event-streams.js';
import { collectInventory } from './host/device-inventory.js';
import { KernelProbe } from './host/kernel-probe.js';
import { createStderrLogger } from './logger.js';
import { AgentMetrics } from './metrics/agent-metrics.js';
import { startMetricsServer } from './metrics/metrics-server.js';
import { startDeviceAgent } from './start-device-agent.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

async function main(argv: string[]): Promise<number> {
  // The simulator (a load-test tool) is loaded only when asked for: the daemon does not carry its code.
  const simulation = () => import('./simulate/run-simulation.js');
  if (argv[0] === 'simulate')
    return (await simulation()).runSimulation(argv.slice(1), process.env, process.stdout, process.stderr);
  let loaded: Awaited<ReturnType<typeof loadAgentConfig>>;
  try {
    loaded = await loadAgentConfig(argv, process.env);
  } catch (err) {
    if (!(err instanceof ConfigKeyError)) throw err;
    process.stderr.write(`bpfleet-agent: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (loaded.kind === 'help') {
    process.stdout.write(`${USAGE}\n${(await simulation()).SIMULATE_USAGE}\n`);
    return 0;
  }
  if (loaded.kind === 'version') {
    process.stdout.write(`bpfleet-agent ${VERSION}\n`);
    return 0;
  }
  const { config, debug } = loaded;
  try {
    // Before anything reads or writes a pin: whoever else could change them could remove the firewall.
    preparePinRoot(config.pinRoot);
  } catch (err) {
    if (!(err instanceof PinRootError)) throw err;
    process.stderr.write(`bpfleet-agent: ${err.message}\n`);
    return 2;
  }
  const logger = createStderrLogger({ debug });
  onLibbpfWarning((message) => logger.debug('libbpf', { message: message.trim() }));
  const host = probeHost();
  const loader = new BpfLoader({
    pinRoot: config.pinRoot,
    meta: new DeploymentMetaStore(join(config.dataDir, 'deployments')),
    arch: host.arch,
    cgroupRoot: host.mounts.cgroup2 ?? '/sys/fs/cgroup',
    allow: config.allow,
    logger,
  });
  const metrics = new AgentMetrics();
  const agent = await startDeviceAgent(config, {
    loader,
    probe: new KernelProbe(host, checkRequires),
    logger,
    metrics,
    inventory: collectInventory(host, VERSION),
    probeType: (kind, name) => host.supports(kind, name),
  });
  const events = startEventStreams(config, { session: agent.session, registry: metrics.registry, logger });
  const server = await startMetricsServer(metrics, config.metrics.host, config.metrics.port, async () =>
    metrics.setProgramMetrics(await loader.metrics()),
  );
  logger.info('started', {
    version: VERSION,
    device: config.deviceId,
    fleet: config.fleet,
    metrics: `${server.url}/metrics`,
    kernel: host.kernelRelease,
    libbpf: host.libbpf,
  });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      // Programs stay attached through their pins: what runs keeps running, the next start adopts it.
      logger.info('stopping; attached programs keep running', { signal });
      Promise.all([events.stop(), agent.stop(), server.close()]).then(
        () => resolve(0),
        (err: unknown) => {
          logger.error('stop failed', { error: errorMessage(err) });
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bpfleet-agent: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
