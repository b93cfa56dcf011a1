// What devices publish (reported state, events, presence) and the strict parsers the edge reads them with.
import { isObject } from '../is-object.js';
import { type DeviceInventory, toInventory } from './inventory.js';
import { ProtocolError } from './protocol-error.js';

export { ProtocolError };

/**
 * What happened to a deployment (or a policy): the pipeline steps QUEUED → DOWNLOADING → VERIFYING → ATTACHED;
 * FAILED, REJECTED and ROLLED_BACK as the statuses of the same name; REMOVED once nothing of it is left in the
 * kernel; DRIFTED when the kernel no longer holds what the agent attached (ATTACHED follows once repaired);
 * POLICY_EXPIRED when a policy's expiry passed (what runs for it is kept, nothing new is applied from it).
 */
export type EventState =
  | 'QUEUED'
  | 'DOWNLOADING'
  | 'VERIFYING'
  | 'ATTACHED'
  | 'FAILED'
  | 'REJECTED'
  | 'ROLLED_BACK'
  | 'REMOVED'
  | 'DRIFTED'
  | 'POLICY_EXPIRED';
export const EVENT_STATES: readonly EventState[] = [
  'QUEUED',
  'DOWNLOADING',
  'VERIFYING',
  'ATTACHED',
  'FAILED',
  'REJECTED',
  'ROLLED_BACK',
  'REMOVED',
  'DRIFTED',
  'POLICY_EXPIRED',
];

/**
 * ATTACHED: the wanted version runs. ROLLED_BACK: a newer wanted version failed, the older one runs.
 * DRIFTED: the kernel no longer holds what was attached (a link gone, the interface missing, the program
 * replaced); `lastError` says what, until a later check repaired it.
 */
export type ProgramStatus = 'PENDING' | 'ATTACHED' | 'FAILED' | 'REJECTED' | 'ROLLED_BACK' | 'DRIFTED';
export const PROGRAM_STATUSES: readonly ProgramStatus[] = [
  'PENDING',
  'ATTACHED',
  'FAILED',
  'REJECTED',
  'ROLLED_BACK',
  'DRIFTED',
];

export interface Reason {
  code: string;
  message: string;
}

export interface ReportedAttach {
  interface?: string;
  direction?: 'ingress' | 'egress';
  cgroup?: string;
  mode?: string;
}

export interface ProgramReport {
  id: string;
  package: string;
  /** The version selector as the policy says it (`1.2.0`, `^1`, `channel:stable`). */
  wanted: string;
  /** The policy topic the program came from. */
  source: string;
  status: ProgramStatus;
  version?: string;
  digest?: string;
  attach?: ReportedAttach;
  /** Entries the running version's policy-managed maps hold, by map name. */
  maps?: Record<string, number>;
  lastError?: Reason;
}

export interface ReportedState {
  device: string;
  fleet: string;
  time: string;
  policies: Record<string, { serial: number }>;
  policyErrors: Record<string, Reason>;
  programs: ProgramReport[];
  /** What the device is and what its kernel runs; absent from agents older than the field. */
  inventory?: DeviceInventory;
}

export interface AgentEvent {
  time: string;
  state: EventState;
  deployment?: string;
  package?: string;
  version?: string;
  digest?: string;
  policy?: string;
  reason?: Reason;
}

export type Presence = 'online' | 'offline';

const MAX_MESSAGE_BYTES = 256 * 1024;

type Json = Record<string, unknown>;

function fail(what: string, path: string, expected: string): never {
  throw new ProtocolError('MESSAGE_INVALID', `${what} ${path}: expected ${expected}`);
}

function parseJsonObject(what: string, payload: Uint8Array | string): Json {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > MAX_MESSAGE_BYTES) {
    throw new ProtocolError('MESSAGE_TOO_LARGE', `${what}: ${size} bytes, limit ${MAX_MESSAGE_BYTES}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
  } catch (err) {
    throw new ProtocolError('MESSAGE_NOT_JSON', `${what}: not valid JSON`, { cause: err });
  }
  if (!isObject(value)) fail(what, '(root)', 'an object');
  return value;
}

function str(what: string, obj: Json, key: string, path: string, optional = false): string | undefined {
  const value = obj[key];
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string' || value.length > 4096) fail(what, `${path}${key}`, 'a string');
  return value;
}

function oneOf<T extends string>(what: string, value: unknown, allowed: readonly T[], path: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(what, path, `one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function reason(what: string, value: unknown, path: string): Reason | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) fail(what, path, 'an object with code and message');
  return { code: str(what, value, 'code', `${path}.`)!, message: str(what, value, 'message', `${path}.`)! };
}

function attach(what: string, value: unknown, path: string): ReportedAttach | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) fail(what, path, 'an object');
  const out: ReportedAttach = {};
  for (const key of ['interface', 'cgroup', 'mode'] as const) {
    const v = str(what, value, key, `${path}.`, true);
    if (v !== undefined) out[key] = v;
  }
  if (value.direction !== undefined) {
    out.direction = oneOf(what, value.direction, ['ingress', 'egress'] as const, `${path}.direction`);
  }
  return out;
}

const MAP_NAME = /^(?!__)[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function mapCounts(what: string, value: unknown, path: string): Record<string, number> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || Object.keys(value).length > 64)
    fail(what, path, 'an object of at most 64 map names');
  const out: Record<string, number> = {};
  for (const [name, count] of Object.entries(value)) {
    if (!MAP_NAME.test(name)) fail(what, `${path}.${name.slice(0, 64)}`, 'a map name');
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0 || count > 65_536) {
      fail(what, `${path}.${name}`, 'an entry count from 0 to 65536');
    }
    out[name] = count;
  }
  return out;
}

function programReport(what: string, value: unknown, path: string): ProgramReport {
  if (!isObject(value)) fail(what, path, 'an object');
  const p = `${path}.`;
  const report: ProgramReport = {
    id: str(what, value, 'id', p)!,
    package: str(what, value, 'package', p)!,
    wanted: str(what, value, 'wanted', p)!,
    source: str(what, value, 'source', p)!,
    status: oneOf(what, value.status, PROGRAM_STATUSES, `${p}status`),
  };
  const version = str(what, value, 'version', p, true);
  const digest = str(what, value, 'digest', p, true);
  const at = attach(what, value.attach, `${p}attach`);
  const lastError = reason(what, value.lastError, `${p}lastError`);
  const maps = mapCounts(what, value.maps, `${p}maps`);
  if (version !== undefined) report.version = version;
  if (digest !== undefined) report.digest = digest;
  if (at !== undefined) report.attach = at;
  if (maps !== undefined) report.maps = maps;
  if (lastError !== undefined) report.lastError = lastError;
  return report;
}

export function parseReportedState(payload: Uint8Array | string): ReportedState {
  const what = 'reported state';
  const obj = parseJsonObject(what, payload);
  if (!Array.isArray(obj.programs) || obj.programs.length > 256)
    fail(what, 'programs', 'an array (at most 256)');
  const policies: Record<string, { serial: number }> = {};
  if (!isObject(obj.policies)) fail(what, 'policies', 'an object');
  for (const [topic, entry] of Object.entries(obj.policies)) {
    if (!isObject(entry) || !Number.isSafeInteger(entry.serial))
      fail(what, `policies.${topic}.serial`, 'an integer');
    policies[topic] = { serial: entry.serial as number };
  }
  const policyErrors: Record<string, Reason> = {};
  if (obj.policyErrors !== undefined) {
    if (!isObject(obj.policyErrors)) fail(what, 'policyErrors', 'an object');
    for (const [topic, r] of Object.entries(obj.policyErrors)) {
      policyErrors[topic] = reason(what, r, `policyErrors.${topic}`)!;
    }
  }
  return {
    device: str(what, obj, 'device', '')!,
    fleet: str(what, obj, 'fleet', '')!,
    time: str(what, obj, 'time', '')!,
    policies,
    policyErrors,
    programs: obj.programs.map((p, i) => programReport(what, p, `programs[${i}]`)),
    ...(obj.inventory !== undefined && { inventory: toInventory(obj.inventory) }),
  };
}

export function parseAgentEvent(payload: Uint8Array | string): AgentEvent {
  const what = 'event';
  const obj = parseJsonObject(what, payload);
  const event: AgentEvent = {
    time: str(what, obj, 'time', '')!,
    state: oneOf(what, obj.state, EVENT_STATES, 'state'),
  };
  for (const key of ['deployment', 'package', 'version', 'digest', 'policy'] as const) {
    const v = str(what, obj, key, '', true);
    if (v !== undefined) event[key] = v;
  }
  const r = reason(what, obj.reason, 'reason');
  if (r) event.reason = r;
  return event;
}

export function parsePresence(payload: Uint8Array | string): Presence {
  const text = (typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8')).trim();
  if (text !== 'online' && text !== 'offline') {
    throw new ProtocolError(
      'MESSAGE_INVALID',
      `presence: expected "online" or "offline", got ${JSON.stringify(text.slice(0, 32))}`,
    );
  }
  return text;
}

/** One value read from a map the manifest marks as a metric (per-CPU values already summed). */
export interface TelemetryMetric {
  deployment: string;
  map: string;
  name: string;
  key: string;
  value: number;
}

export interface Telemetry {
  time: string;
  metrics: TelemetryMetric[];
}

const MAX_TELEMETRY_METRICS = 4096;

export function parseTelemetry(payload: Uint8Array | string): Telemetry {
  const what = 'telemetry';
  const obj = parseJsonObject(what, payload);
  if (!Array.isArray(obj.metrics) || obj.metrics.length > MAX_TELEMETRY_METRICS) {
    fail(what, 'metrics', `an array (at most ${MAX_TELEMETRY_METRICS})`);
  }
  const metrics = obj.metrics.map((m, i): TelemetryMetric => {
    const path = `metrics[${i}].`;
    if (!isObject(m)) fail(what, `metrics[${i}]`, 'an object');
    if (typeof m.value !== 'number' || !Number.isFinite(m.value))
      fail(what, `${path}value`, 'a finite number');
    return {
      deployment: str(what, m, 'deployment', path)!,
      map: str(what, m, 'map', path)!,
      name: str(what, m, 'name', path)!,
      key: str(what, m, 'key', path)!,
      value: m.value,
    };
  });
  return { time: str(what, obj, 'time', '')!, metrics };
}
