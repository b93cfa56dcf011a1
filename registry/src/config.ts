// bpfleet-edge configuration: defaults < config file (JSON) < environment < flags; secrets from files or env.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { parseDuration as parseSdkDuration } from '@bpfleet/sdk/duration';
import { ConfigError, errorMessage } from '@bpfleet/sdk/errors';
import { DEFAULT_INDEX_TTL_MS, defaultLimits } from './app-deps.js';
import { type EdgeFlags, parseEdgeArgs } from './edge-args.js';
import { assertStrongAdminToken, readSecretFile } from './secrets.js';
import { resolveStorageConfig, type StorageConfig, type StorageFileConfig } from './storage-config.js';

/** Storage (`database`, `blobs`): SQLite and a blob dir in `dataDir` unless PostgreSQL / S3 URLs are given. */
export interface EdgeConfig extends StorageConfig {
  dataDir: string;
  host: string;
  port: number;
  indexTtlMs: number;
  maxPackageBytes: number;
  /** HTTP worker processes sharing the port (node:cluster); 1 serves from the main process. */
  workers: number;
  /** When set, this is the admin token (its hash replaces the stored one); else one is generated once. */
  adminToken?: string;
  /** The fleet this edge controls (a topic level: letters, digits, '.', '_', '-'). */
  fleet: string;
  /** Embedded MQTT broker port (aedes); ignored with `broker`. */
  brokerPort: number;
  /** HTTPS and MQTT over TLS: the edge's certificate (chain) and key files, PEM. Absent: plain HTTP and MQTT. */
  tls?: { certFile: string; keyFile: string };
  /** How long device certificates from the edge's device CA live (devices renew them at a third left). */
  deviceCertLifetimeMs?: number;
  /** An external broker (mosquitto, EMQX, …) instead of the embedded one, with the controller's login. */
  broker?: { url: string; username: string; password: string; dynsec?: boolean };
  /** Public key files of the operators whose signed policies this edge accepts. */
  operatorKeys: string[];
  /** Distinct operator signatures a policy needs (k of n; at most the number of operator keys). */
  operatorThreshold: number;
}

type Env = Record<string, string | undefined>;

const DEFAULTS: EdgeConfig = {
  dataDir: '/var/lib/bpfleet-edge',
  host: '127.0.0.1',
  port: 8080,
  indexTtlMs: DEFAULT_INDEX_TTL_MS,
  maxPackageBytes: defaultLimits.maxPackageBytes,
  workers: 1,
  fleet: 'default',
  brokerPort: 1883,
  operatorKeys: [],
  operatorThreshold: 1,
};

/** `90s`, `15m`, `24h`, `7d`: the SDK's one duration syntax (a unit is always written), at least a minute. */
export function parseDuration(text: string, context: string): number {
  try {
    return parseSdkDuration(text, context, { min: 60_000 });
  } catch (err) {
    throw new ConfigError('CONFIG_INVALID', errorMessage(err), { cause: err });
  }
}

function parsePort(text: string, context: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError('CONFIG_INVALID', `${context}: ${JSON.stringify(text)} is not a port`);
  }
  return port;
}

/** A count of processes, or `auto` for one per CPU. */
function parseWorkers(text: string, context: string): number {
  if (text === 'auto') return availableParallelism();
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `${context}: ${JSON.stringify(text)} is not a worker count or auto`,
    );
  }
  return n;
}

function parseBytes(text: string, context: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0)
    throw new ConfigError('CONFIG_INVALID', `${context}: not a positive byte count`);
  return n;
}

interface FileConfig extends StorageFileConfig {
  dataDir?: string;
  host?: string;
  port?: number;
  indexTtl?: string;
  maxPackageBytes?: number;
  workers?: number | 'auto';
  adminToken?: string;
  fleet?: string;
  brokerPort?: number;
  tls?: { cert: string; key: string };
  deviceCertLifetime?: string;
  broker?: { url: string; username: string; password?: string; passwordFile?: string; dynsec?: boolean };
  operatorKeys?: string[];
  operatorThreshold?: number;
  adminTokenFile?: string;
}

const FILE_KEYS = new Set([
  'fleet',
  'brokerPort',
  'tls',
  'deviceCertLifetime',
  'broker',
  'operatorKeys',
  'operatorThreshold',
  'dataDir',
  'host',
  'port',
  'indexTtl',
  'maxPackageBytes',
  'workers',
  'adminToken',
  'adminTokenFile',
  'database',
  'blobs',
]);

async function readConfigFile(path: string): Promise<FileConfig> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ConfigError('CONFIG_INVALID', `config ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof value !== 'object' || value === null)
    throw new ConfigError('CONFIG_INVALID', `config ${path}: not an object`);
  for (const key of Object.keys(value)) {
    if (!FILE_KEYS.has(key)) throw new ConfigError('CONFIG_INVALID', `config ${path}: unknown field ${key}`);
  }
  return value as FileConfig;
}

/** The config from parsed flags (`parseEdgeArgs`), the environment and the config file they name. */
export async function resolveEdgeConfig(flags: EdgeFlags, env: Env): Promise<EdgeConfig> {
  const values = flags;
  const configPath = values.config ?? env.BPFLEET_EDGE_CONFIG;
  const file = configPath ? await readConfigFile(configPath) : {};
  const config: EdgeConfig = { ...DEFAULTS };
  if (file.dataDir) config.dataDir = file.dataDir;
  if (file.host) config.host = file.host;
  if (file.port !== undefined) config.port = parsePort(String(file.port), 'config port');
  if (file.indexTtl) config.indexTtlMs = parseDuration(file.indexTtl, 'config indexTtl');
  if (file.maxPackageBytes !== undefined) {
    config.maxPackageBytes = parseBytes(String(file.maxPackageBytes), 'config maxPackageBytes');
  }
  if (file.workers !== undefined) config.workers = parseWorkers(String(file.workers), 'config workers');

  const dataDir = values['data-dir'] ?? env.BPFLEET_EDGE_DATA_DIR;
  if (dataDir) config.dataDir = dataDir;
  const host = values.host ?? env.BPFLEET_EDGE_HOST;
  if (host) config.host = host;
  const port = values.port ?? env.BPFLEET_EDGE_PORT;
  if (port !== undefined) config.port = parsePort(port, 'port');
  const ttl = values['index-ttl'] ?? env.BPFLEET_EDGE_INDEX_TTL;
  if (ttl) config.indexTtlMs = parseDuration(ttl, 'index ttl');
  const maxBytes = values['max-package-bytes'] ?? env.BPFLEET_EDGE_MAX_PACKAGE_BYTES;
  if (maxBytes) config.maxPackageBytes = parseBytes(maxBytes, 'max package bytes');
  const workers = values.workers ?? env.BPFLEET_EDGE_WORKERS;
  if (workers) config.workers = parseWorkers(workers, 'workers');
  const adminToken = await resolveAdminToken(file, values, env);
  if (adminToken !== undefined) {
    assertStrongAdminToken(adminToken, 'admin token');
    config.adminToken = adminToken;
  }
  await applyFleetConfig(config, file, values, env);
  Object.assign(config, await resolveStorageConfig(file, values, env));
  return config;
}

export async function loadEdgeConfig(argv: string[], env: Env): Promise<EdgeConfig> {
  const command = parseEdgeArgs(argv);
  if (command.kind !== 'run') throw new ConfigError('USAGE', `arguments: --${command.kind} takes no config`);
  return resolveEdgeConfig(command.flags, env);
}

async function resolveAdminToken(file: FileConfig, flags: EdgeFlags, env: Env): Promise<string | undefined> {
  const path = flags['admin-token-file'] ?? env.BPFLEET_EDGE_ADMIN_TOKEN_FILE;
  if (path) return readSecretFile(path, 'admin token file');
  if (env.BPFLEET_EDGE_ADMIN_TOKEN) return env.BPFLEET_EDGE_ADMIN_TOKEN;
  if (file.adminTokenFile) return readSecretFile(file.adminTokenFile, 'config adminTokenFile');
  return file.adminToken || undefined;
}

async function applyFleetConfig(
  config: EdgeConfig,
  file: FileConfig,
  flags: EdgeFlags,
  env: Env,
): Promise<void> {
  const fleet = flags.fleet ?? env.BPFLEET_EDGE_FLEET ?? file.fleet;
  if (fleet !== undefined) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(fleet)) {
      throw new ConfigError('CONFIG_INVALID', `fleet: ${JSON.stringify(fleet)} is not a valid fleet name`);
    }
    config.fleet = fleet;
  }
  const brokerPort = flags['broker-port'] ?? env.BPFLEET_EDGE_BROKER_PORT ?? file.brokerPort;
  if (brokerPort !== undefined) config.brokerPort = parsePort(String(brokerPort), 'broker port');
  const certFile = flags['tls-cert'] ?? env.BPFLEET_EDGE_TLS_CERT ?? file.tls?.cert;
  const keyFile = flags['tls-key'] ?? env.BPFLEET_EDGE_TLS_KEY ?? file.tls?.key;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError(
      'CONFIG_INVALID',
      'tls: give both --tls-cert and --tls-key (or neither, for plain HTTP)',
    );
  }
  if (certFile && keyFile) config.tls = { certFile, keyFile };
  const lifetime =
    flags['device-cert-lifetime'] ?? env.BPFLEET_EDGE_DEVICE_CERT_LIFETIME ?? file.deviceCertLifetime;
  if (lifetime !== undefined) {
    config.deviceCertLifetimeMs = parseDuration(lifetime, 'device certificate lifetime');
  }
  const url = flags.broker ?? env.BPFLEET_EDGE_BROKER ?? file.broker?.url;
  if (url !== undefined) {
    if (!/^mqtts?:\/\//.test(url))
      throw new ConfigError('CONFIG_INVALID', `broker: ${url} is not an mqtt:// or mqtts:// URL`);
    const username = flags['broker-username'] ?? env.BPFLEET_EDGE_BROKER_USERNAME ?? file.broker?.username;
    const password = await resolveBrokerPassword(file, flags, env);
    if (!username || !password) {
      throw new ConfigError(
        'CONFIG_INVALID',
        "broker: an external broker needs the controller's broker-username and a password (--broker-password-file or BPFLEET_EDGE_BROKER_PASSWORD)",
      );
    }
    const dynsec =
      flags['broker-dynsec'] ??
      (env.BPFLEET_EDGE_BROKER_DYNSEC !== undefined
        ? env.BPFLEET_EDGE_BROKER_DYNSEC === '1'
        : file.broker?.dynsec);
    config.broker = { url, username, password, ...(dynsec ? { dynsec: true } : {}) };
  }
  const keys = flags['operator-key'] ?? env.BPFLEET_EDGE_OPERATOR_KEYS?.split(',') ?? file.operatorKeys;
  if (keys !== undefined) config.operatorKeys = keys;
  const threshold =
    flags['operator-threshold'] ?? env.BPFLEET_EDGE_OPERATOR_THRESHOLD ?? file.operatorThreshold;
  if (threshold !== undefined) {
    const k = Number(threshold);
    const n = config.operatorKeys.length;
    if (!Number.isInteger(k) || k < 1 || k > Math.max(n, 1)) {
      throw new ConfigError(
        'CONFIG_INVALID',
        `operator threshold: ${JSON.stringify(threshold)} is not a count from 1 to the ${n} operator key(s) given (--operator-key)`,
      );
    }
    config.operatorThreshold = k;
  }
}

async function resolveBrokerPassword(
  file: FileConfig,
  flags: EdgeFlags,
  env: Env,
): Promise<string | undefined> {
  const path = flags['broker-password-file'] ?? env.BPFLEET_EDGE_BROKER_PASSWORD_FILE;
  if (path) return readSecretFile(path, 'broker password file');
  if (env.BPFLEET_EDGE_BROKER_PASSWORD) return env.BPFLEET_EDGE_BROKER_PASSWORD;
  if (file.broker?.passwordFile)
    return readSecretFile(file.broker.passwordFile, 'config broker.passwordFile');
  return file.broker?.password || undefined;
}
