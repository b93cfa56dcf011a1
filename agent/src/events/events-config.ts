// The agent config's `events` section: the per-device delivery budget, MQTT batching and the local JSON-lines sink.
import { isAbsolute } from 'node:path';
import { ConfigKeyError } from '../config/agent-config.js';

export interface EventsConfig {
  /** Records per second the device delivers over all its streams (a token bucket); the rest is dropped, counted. */
  ratePerSecond: number;
  /** Records the bucket holds: a burst this large passes at once. */
  burst: number;
  /** Records per MQTT message at most (a message also stays under 128 KiB of JSON). */
  batchRecords: number;
  /** A batch waits at most this long before it is published. */
  flushMs: number;
  /** Every delivered record as one JSON line; rotated at `maxBytes` into `path.1` … `path.<files>`. */
  sink?: { path: string; maxBytes: number; files: number };
}

export const DEFAULT_EVENTS_CONFIG: EventsConfig = {
  ratePerSecond: 1000,
  burst: 5000,
  batchRecords: 500,
  flushMs: 1000,
};

type Obj = Record<string, unknown>;

function object(value: unknown, key: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigKeyError(key, 'expected an object');
  return value as Obj;
}

function only(value: Obj, key: string, allowed: string[]): void {
  for (const k of Object.keys(value)) {
    if (!allowed.includes(k))
      throw new ConfigKeyError(`${key}.${k}`, `unknown key (expected ${allowed.join(', ')})`);
  }
}

function integer(value: unknown, key: string, min: number, max: number): number {
  const n = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max)
    throw new ConfigKeyError(key, `expected an integer from ${min} to ${max}`);
  return n;
}

export function parseEventsConfig(raw: unknown): EventsConfig {
  if (raw === undefined) return { ...DEFAULT_EVENTS_CONFIG };
  const events = object(raw, 'events');
  only(events, 'events', ['ratePerSecond', 'burst', 'batchRecords', 'flushMs', 'sink']);
  const d = DEFAULT_EVENTS_CONFIG;
  const config: EventsConfig = {
    ratePerSecond: integer(events.ratePerSecond ?? d.ratePerSecond, 'events.ratePerSecond', 0, 10_000_000),
    burst: integer(events.burst ?? d.burst, 'events.burst', 1, 100_000_000),
    batchRecords: integer(events.batchRecords ?? d.batchRecords, 'events.batchRecords', 1, 10_000),
    flushMs: integer(events.flushMs ?? d.flushMs, 'events.flushMs', 10, 60_000),
  };
  if (events.sink !== undefined) {
    const sink = object(events.sink, 'events.sink');
    only(sink, 'events.sink', ['path', 'maxBytes', 'files']);
    if (typeof sink.path !== 'string' || !isAbsolute(sink.path))
      throw new ConfigKeyError('events.sink.path', 'expected an absolute path');
    config.sink = {
      path: sink.path,
      maxBytes: integer(sink.maxBytes ?? 16 * 1024 * 1024, 'events.sink.maxBytes', 4096, 2 ** 40),
      files: integer(sink.files ?? 3, 'events.sink.files', 1, 100),
    };
  }
  return config;
}
