// The agent's configuration: file (JSON), then environment, then flags; every error names its key.
import { ConfigError, errorMessage } from '@bpfleet/sdk/errors';
import { parseTrustedKey, type TrustedKey } from '@bpfleet/sdk/trust';
import { type EventsConfig, parseEventsConfig } from '../events/events-config.js';

/** `{ keyId, publicKeyPem, validFrom?, validUntil? }`, as sdk/trust parses it. */
export type KeyConfig = TrustedKey;

export interface AgentConfig {
  deviceId: string;
  fleet: string;
  /** Group names in precedence order: the first group wins among groups (see mergePolicies). */
  groups: string[];
  broker: {
    url: string;
    username?: string;
    password?: string;
    /** PEM CA bundle, client certificate and key for mqtts://. */
    ca?: string;
    cert?: string;
    key?: string;
    keepaliveSeconds: number;
  };
  registry: {
    url: string;
    /** PEM, read from the `tls` files by loadAgentConfig: the same CA and client certificate as the broker's. */
    tls?: TlsMaterial;
    /** A download with no byte for this long is abandoned and resumed. */
    stallTimeoutSeconds: number;
    /** Slow retrieval: after the stall timeout, a download averaging less than this is abandoned and resumed. */
    minBytesPerSecond: number;
  };
  trust: {
    operatorKeys: KeyConfig[];
    /** Distinct operator signatures a policy needs (k of n; default 1). */
    operatorThreshold?: number;
    /** The edge's policy key(s): rollout waves, accepted only within the operators' grants (not operator keys). */
    edgeKeys?: KeyConfig[];
    registryKeys: KeyConfig[];
    /** Publisher keys per namespace (`acme` → keys allowed to sign `acme/*`). */
    publishers: Record<string, KeyConfig[]>;
    /** This inline trust is root version 1; these keys (`rootThreshold` of them) sign version 2 (trust-root/). */
    rootKeys?: KeyConfig[];
    rootThreshold?: number;
  };
  /**
   * Files (absolute paths) for mqtts:// and https://: `ca` verifies the edge (never skipped), `cert` + `key` are the
   * device's client certificate from the edge's device CA. loadAgentConfig reads them into broker and registry.
   */
  tls?: { ca?: string; cert?: string; key?: string };
  dataDir: string;
  /** Root of the agent's bpffs pins. */
  pinRoot: string;
  /** Attach points a policy may use; empty lists allow nothing of that kind. */
  allow: { interfaces: string[]; cgroups: string[] };
  metrics: { host: string; port: number };
  telemetryIntervalSeconds: number;
  reconcileIntervalSeconds: number;
  /** How often the links of what runs are checked against the kernel (drift), between reconcile passes. */
  driftCheckIntervalSeconds: number;
  /** Event streams (ring buffers) delivery: budget, MQTT batching, local JSON-lines sink (events/). */
  events?: EventsConfig;
}

export interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
}

export class ConfigKeyError extends ConfigError {
  readonly key: string;

  constructor(key: string, message: string) {
    super('CONFIG_INVALID', `config ${key}: ${message}`);
    this.key = key;
  }
}

type Obj = Record<string, unknown>;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Overrides from env and flags, as dotted keys (`broker.url`) → raw string values. */
export type ConfigOverrides = Record<string, string>;

export const ENV_KEYS: Record<string, string> = {
  BPFLEET_DEVICE_ID: 'deviceId',
  BPFLEET_FLEET: 'fleet',
  BPFLEET_GROUPS: 'groups',
  BPFLEET_BROKER_URL: 'broker.url',
  BPFLEET_BROKER_USERNAME: 'broker.username',
  BPFLEET_BROKER_PASSWORD: 'broker.password',
  BPFLEET_REGISTRY_URL: 'registry.url',
  BPFLEET_DATA_DIR: 'dataDir',
  BPFLEET_PIN_ROOT: 'pinRoot',
  BPFLEET_METRICS_PORT: 'metrics.port',
};

export function overridesFromEnv(env: NodeJS.ProcessEnv): ConfigOverrides {
  const out: ConfigOverrides = {};
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

/** Applies overrides to the decoded file and validates the result. */
export function toAgentConfig(file: unknown, overrides: ConfigOverrides = {}): AgentConfig {
  if (typeof file !== 'object' || file === null || Array.isArray(file)) {
    throw new ConfigKeyError('(root)', 'expected a JSON object');
  }
  const raw = structuredClone(file) as Obj;
  for (const [key, value] of Object.entries(overrides)) setPath(raw, key, value);
  only(raw, '', [
    'deviceId',
    'fleet',
    'groups',
    'broker',
    'registry',
    'trust',
    'tls',
    'dataDir',
    'pinRoot',
    'allow',
    'metrics',
    'telemetryIntervalSeconds',
    'reconcileIntervalSeconds',
    'driftCheckIntervalSeconds',
    'events',
  ]);
  const broker = obj(raw.broker, 'broker');
  only(broker, 'broker', ['url', 'username', 'password', 'ca', 'cert', 'key', 'keepaliveSeconds']);
  const registry = obj(raw.registry, 'registry');
  only(registry, 'registry', ['url', 'stallTimeoutSeconds', 'minBytesPerSecond']);
  const trust = obj(raw.trust, 'trust');
  only(trust, 'trust', [
    'operatorKeys',
    'operatorThreshold',
    'edgeKeys',
    'registryKeys',
    'publishers',
    'rootKeys',
    'rootThreshold',
  ]);
  const allow = obj(raw.allow ?? {}, 'allow');
  only(allow, 'allow', ['interfaces', 'cgroups']);
  const metrics = obj(raw.metrics ?? {}, 'metrics');
  const tls = obj(raw.tls ?? {}, 'tls');
  only(tls, 'tls', ['ca', 'cert', 'key']);
  if ((tls.cert === undefined) !== (tls.key === undefined))
    throw new ConfigKeyError(
      tls.cert === undefined ? 'tls.cert' : 'tls.key',
      'tls.cert and tls.key go together',
    );
  only(metrics, 'metrics', ['host', 'port']);
  const publishers = obj(trust.publishers ?? {}, 'trust.publishers');
  const config: AgentConfig = {
    deviceId: name(raw.deviceId, 'deviceId'),
    fleet: name(raw.fleet, 'fleet'),
    groups: list(raw.groups ?? [], 'groups').map((g, i) => name(g, `groups[${i}]`)),
    broker: {
      url: url(broker.url, 'broker.url', ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:']),
      keepaliveSeconds: int(broker.keepaliveSeconds ?? 30, 'broker.keepaliveSeconds', 5, 3600),
    },
    registry: {
      url: url(registry.url, 'registry.url', ['http:', 'https:']),
      stallTimeoutSeconds: int(registry.stallTimeoutSeconds ?? 30, 'registry.stallTimeoutSeconds', 1, 3600),
      minBytesPerSecond: int(registry.minBytesPerSecond ?? 1024, 'registry.minBytesPerSecond', 0, 1 << 30),
    },
    trust: {
      operatorKeys: keys(trust.operatorKeys, 'trust.operatorKeys', true),
      operatorThreshold: 1,
      edgeKeys: keys(trust.edgeKeys, 'trust.edgeKeys', false),
      registryKeys: keys(trust.registryKeys, 'trust.registryKeys', true),
      publishers: Object.fromEntries(
        Object.entries(publishers).map(([ns, k]) => [ns, keys(k, `trust.publishers.${ns}`, true)]),
      ),
    },
    dataDir: absolute(raw.dataDir ?? '/var/lib/bpfleet-agent', 'dataDir'),
    pinRoot: absolute(raw.pinRoot ?? '/sys/fs/bpf/bpfleet', 'pinRoot'),
    allow: {
      interfaces: list(allow.interfaces ?? [], 'allow.interfaces').map((v, i) =>
        str(v, `allow.interfaces[${i}]`),
      ),
      cgroups: list(allow.cgroups ?? [], 'allow.cgroups').map((v, i) => absolute(v, `allow.cgroups[${i}]`)),
    },
    metrics: {
      host: str(metrics.host ?? '127.0.0.1', 'metrics.host'),
      port: int(metrics.port ?? 9465, 'metrics.port', 0, 65535),
    },
    telemetryIntervalSeconds: int(raw.telemetryIntervalSeconds ?? 30, 'telemetryIntervalSeconds', 1, 86400),
    reconcileIntervalSeconds: int(raw.reconcileIntervalSeconds ?? 60, 'reconcileIntervalSeconds', 1, 86400),
    driftCheckIntervalSeconds: int(raw.driftCheckIntervalSeconds ?? 2, 'driftCheckIntervalSeconds', 1, 3600),
    events: parseEventsConfig(raw.events),
  };
  checkPolicyTrust(config.trust, trust.operatorThreshold);
  if (trust.rootKeys !== undefined) {
    config.trust.rootKeys = keys(trust.rootKeys, 'trust.rootKeys', true);
    config.trust.rootThreshold = int(
      trust.rootThreshold ?? 1,
      'trust.rootThreshold',
      1,
      config.trust.rootKeys.length,
    );
  } else if (trust.rootThreshold !== undefined) {
    throw new ConfigKeyError('trust.rootThreshold', 'needs trust.rootKeys');
  }
  for (const field of ['ca', 'cert', 'key'] as const) {
    if (tls[field] !== undefined)
      config.tls = { ...config.tls, [field]: absolute(tls[field], `tls.${field}`) };
  }
  for (const field of ['username', 'password', 'ca', 'cert', 'key'] as const) {
    if (broker[field] !== undefined) config.broker[field] = str(broker[field], `broker.${field}`);
  }
  return config;
}

/** k of n needs n ≥ k; an edge key listed as an operator would count toward k and escape its bound. */
function checkPolicyTrust(trust: AgentConfig['trust'], threshold: unknown): void {
  const n = trust.operatorKeys.length;
  trust.operatorThreshold = int(threshold ?? 1, 'trust.operatorThreshold', 1, n);
  const both = trust.edgeKeys?.find((e) => trust.operatorKeys.some((k) => k.keyId === e.keyId));
  if (both) throw new ConfigKeyError('trust.edgeKeys', `${both.keyId} is also an operator key; list it once`);
}

function setPath(target: Obj, key: string, value: string): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Obj;
  }
  const last = parts[parts.length - 1]!;
  // Overrides arrive as strings; numbers and lists are decoded here so validation sees their real type.
  if (key === 'groups') node[last] = value.split(',').filter(Boolean);
  else if (/^\d+$/.test(value) && /port|Seconds/.test(last)) node[last] = Number(value);
  else node[last] = value;
}

function only(value: Obj, path: string, allowed: string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new ConfigKeyError(path ? `${path}.${key}` : key, 'unknown key');
  }
}

function obj(value: unknown, key: string): Obj {
  if (value === undefined) throw new ConfigKeyError(key, 'is required');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigKeyError(key, 'expected an object');
  }
  return value as Obj;
}

function str(value: unknown, key: string): string {
  if (value === undefined) throw new ConfigKeyError(key, 'is required');
  if (typeof value !== 'string' || value === '') throw new ConfigKeyError(key, 'expected a non-empty string');
  return value;
}

function name(value: unknown, key: string): string {
  const s = str(value, key);
  if (!NAME.test(s))
    throw new ConfigKeyError(key, `not a valid name (letters, digits, . _ -): ${JSON.stringify(s)}`);
  return s;
}

function list(value: unknown, key: string): unknown[] {
  if (!Array.isArray(value)) throw new ConfigKeyError(key, 'expected a list');
  return value;
}

function int(value: unknown, key: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigKeyError(key, `expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function url(value: unknown, key: string, protocols: string[]): string {
  const s = str(value, key);
  let parsed: URL;
  try {
    parsed = new URL(s);
  } catch {
    throw new ConfigKeyError(key, `not a URL: ${JSON.stringify(s)}`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigKeyError(key, `expected a ${protocols.join(' / ')} URL, got ${parsed.protocol}`);
  }
  return s.replace(/\/+$/, '');
}

function absolute(value: unknown, key: string): string {
  const s = str(value, key);
  if (!s.startsWith('/') || s.split('/').includes('..'))
    throw new ConfigKeyError(key, 'expected an absolute path');
  return s;
}

function keys(value: unknown, key: string, nonEmpty: boolean): KeyConfig[] {
  const items = list(value ?? [], key);
  if (nonEmpty && items.length === 0) throw new ConfigKeyError(key, 'needs at least one key');
  return items.map((item, i) => {
    try {
      return parseTrustedKey(item, `${key}[${i}]`);
    } catch (err) {
      // The trust parser names the field in its message; keep it and name the config key.
      throw new ConfigKeyError(`${key}[${i}]`, errorMessage(err));
    }
  });
}
