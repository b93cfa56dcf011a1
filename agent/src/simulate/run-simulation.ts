// `bpfleet-agent simulate`: N devices in one process with the real loop, MQTT, HTTP and signature checks,
// and an in-memory loader in place of the kernel.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { errorMessage } from '@bpfleet/sdk/errors';
import { parse as parseYaml } from 'yaml';
import { type AgentConfig, ConfigKeyError, toAgentConfig } from '../config/agent-config.js';
import type { DeviceAgent } from '../device-agent.js';
import { createStderrLogger, type Logger } from '../logger.js';
import { AgentMetrics } from '../metrics/agent-metrics.js';
import { startDeviceAgent } from '../start-device-agent.js';
import { MemoryLoader } from './memory-loader.js';

export const SIMULATE_USAGE = `usage: bpfleet-agent simulate --devices N [--config base.{json,yaml}] [--fleet NAME]
       [--broker URL] [--registry URL] [--trust trust.{json,yaml}] [--groups a,b] [--prefix sim-]
       [--password SECRET | --credentials creds.json] [--first K] [--reject-version V] [--data-dir DIR] [--debug]
Runs N devices (<prefix>K … <prefix>K+N-1, broker username = device id) in one process; the kernel side is
simulated, everything else is real. The base config gives every other key; flags override it.
--credentials is a JSON object of device id → broker password (as issued by POST /v1/fleet/devices);
--reject-version makes these devices' loader refuse that version, as a device whose kernel cannot load it.`;

const FLAGS = {
  devices: { type: 'string', short: 'n' },
  config: { type: 'string', short: 'c' },
  fleet: { type: 'string' },
  broker: { type: 'string' },
  registry: { type: 'string' },
  trust: { type: 'string' },
  groups: { type: 'string' },
  prefix: { type: 'string' },
  password: { type: 'string' },
  credentials: { type: 'string' },
  first: { type: 'string' },
  'reject-version': { type: 'string', multiple: true },
  'data-dir': { type: 'string' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface Simulation {
  devices: DeviceAgent[];
  loaders: MemoryLoader[];
  stop(): Promise<void>;
}

export interface SimulationOptions {
  devices: number;
  prefix: string;
  /** A full agent config without `deviceId`; `dataDir` is the parent of one directory per device. */
  base: Record<string, unknown>;
  logger: Logger;
  /** Index of the first device (default 0), so several processes can share one id range. */
  first?: number;
  /** Per-device broker passwords (device id → password); without one, `base.broker.password` is used. */
  credentials?: Readonly<Record<string, string>>;
  /** Versions every device of this simulation refuses to load. */
  rejectVersions?: readonly string[];
}

/** Parses the simulate flags into options; every error is a ConfigKeyError naming the flag or key. */
export async function simulationOptions(
  argv: string[],
  env: NodeJS.ProcessEnv,
): Promise<SimulationOptions | 'help'> {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new ConfigKeyError('(flags)', (err as Error).message);
  }
  if (values.help) return 'help';
  const n = Number(values.devices);
  if (!Number.isInteger(n) || n < 1 || n > 100_000)
    throw new ConfigKeyError('--devices', 'expected a number of devices from 1 to 100000');
  const base: Record<string, unknown> =
    typeof values.config === 'string' ? asObject(await readDoc(values.config, '--config'), '--config') : {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) base[key] = value;
  };
  set('fleet', values.fleet);
  if (typeof values.broker === 'string')
    base.broker = { ...asObject(base.broker ?? {}, 'broker'), url: values.broker };
  const password = (values.password as string | undefined) ?? env.BPFLEET_BROKER_PASSWORD;
  if (password !== undefined) base.broker = { ...asObject(base.broker ?? {}, 'broker'), password };
  if (typeof values.registry === 'string') base.registry = { url: values.registry };
  if (typeof values.trust === 'string') base.trust = await readDoc(values.trust, '--trust');
  if (typeof values.groups === 'string') base.groups = values.groups.split(',').filter(Boolean);
  set('dataDir', values['data-dir']);
  if (base.dataDir === undefined) base.dataDir = '/var/lib/bpfleet-agent/simulated';
  const first = values.first === undefined ? 0 : Number(values.first);
  if (!Number.isInteger(first) || first < 0)
    throw new ConfigKeyError('--first', 'expected the index of the first device (0 or more)');
  const logger = createStderrLogger({ debug: values.debug === true });
  const options: SimulationOptions = {
    devices: n,
    prefix: (values.prefix as string | undefined) ?? 'sim-',
    base,
    logger,
    first,
    rejectVersions: (values['reject-version'] as string[] | undefined) ?? [],
  };
  if (typeof values.credentials === 'string') {
    const creds = asObject(await readDoc(values.credentials, '--credentials'), '--credentials');
    for (const [id, pw] of Object.entries(creds))
      if (typeof pw !== 'string')
        throw new ConfigKeyError('--credentials', `${id}: expected a password string`);
    options.credentials = creds as Record<string, string>;
  }
  // Validate once up front so a bad key fails before any device starts.
  deviceConfig(options, 0);
  return options;
}

export function deviceConfig(o: SimulationOptions, i: number): AgentConfig {
  const deviceId = `${o.prefix}${(o.first ?? 0) + i}`;
  const own = o.credentials?.[deviceId];
  const broker = { ...asObject(o.base.broker ?? {}, 'broker'), ...(own !== undefined && { password: own }) };
  if (o.credentials && own === undefined)
    throw new ConfigKeyError('--credentials', `no password for device ${deviceId}`);
  // The device id is also its broker username (the fleet's access control requires it).
  return toAgentConfig({
    ...o.base,
    deviceId,
    broker: { ...broker, ...(broker.password !== undefined && { username: deviceId }) },
    dataDir: join(String(o.base.dataDir), deviceId),
  });
}

export async function startSimulation(o: SimulationOptions): Promise<Simulation> {
  const devices: DeviceAgent[] = [];
  const loaders: MemoryLoader[] = [];
  const stop = async () => {
    await Promise.all(devices.map((d) => d.stop().catch(() => {})));
  };
  try {
    for (let i = 0; i < o.devices; i++) {
      const loader = new MemoryLoader(undefined, undefined, { rejectVersions: new Set(o.rejectVersions) });
      const config = deviceConfig(o, i);
      const logger = childLogger(o.logger, config.deviceId);
      // A simulated host meets every requirement: the packages' requires are the kernel tests' business.
      const probe = { missing: async () => [] };
      devices.push(await startDeviceAgent(config, { loader, probe, logger, metrics: new AgentMetrics() }));
      loaders.push(loader);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { devices, loaders, stop };
}

export async function runSimulation(
  argv: string[],
  env: NodeJS.ProcessEnv,
  stdout: Writable,
  stderr: Writable,
): Promise<number> {
  let options: SimulationOptions | 'help';
  try {
    options = await simulationOptions(argv, env);
  } catch (err) {
    if (!(err instanceof ConfigKeyError)) throw err;
    stderr.write(`bpfleet-agent simulate: ${err.message}\n${SIMULATE_USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    stdout.write(`${SIMULATE_USAGE}\n`);
    return 0;
  }
  const sim = await startSimulation(options);
  stdout.write(`${JSON.stringify({ simulating: sim.devices.length, prefix: options.prefix })}\n`);
  return new Promise<number>((resolve) => {
    const stop = () =>
      sim.stop().then(
        () => resolve(0),
        (err: unknown) => {
          stderr.write(`bpfleet-agent simulate: ${errorMessage(err)}\n`);
          resolve(1);
        },
      );
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

function childLogger(logger: Logger, device: string): Logger {
  return {
    debug: (m, f) => logger.debug(m, { device, ...f }),
    info: (m, f) => logger.info(m, { device, ...f }),
    warn: (m, f) => logger.warn(m, { device, ...f }),
    error: (m, f) => logger.error(m, { device, ...f }),
  };
}

async function readDoc(path: string, flag: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigKeyError(flag, `cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return /\.ya?ml$/i.test(path) ? parseYaml(text, { maxAliasCount: 100 }) : JSON.parse(text);
  } catch (err) {
    throw new ConfigKeyError(flag, `${path}: ${(err as Error).message}`);
  }
}

function asObject(value: unknown, key: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigKeyError(key, 'expected an object');
  return value as Record<string, unknown>;
}
