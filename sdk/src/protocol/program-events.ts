// Program event batches: what a device's event streams (ring buffers) publish on its events topic, and their parser.
import { isObject } from '../is-object.js';
import { ProtocolError } from './protocol-error.js';

/** Records lost since the previous batch of the same stream, by reason. */
export interface EventLosses {
  /** The program counted failed `bpf_ringbuf_reserve` calls: the ring was full. */
  ringFull: number;
  /** Over the device's event budget (sampling): drained, then dropped by the agent. */
  budget: number;
  /** Not the size of the manifest's record layout. */
  malformed: number;
}

/** A JSON value decoded by the manifest's record layout (numbers, decimal strings for large u64, text, objects). */
export type EventRecord = { [field: string]: unknown } | number | string | boolean;

export interface ProgramEventBatch {
  kind: 'program-events';
  time: string;
  deployment: string;
  package: string;
  version: string;
  /** The ring buffer map's name. */
  stream: string;
  /** The stream's delivered-record number of the first record (from 0 when the agent started draining it). */
  first: number;
  records: EventRecord[];
  lost: EventLosses;
}

export const MAX_BATCH_RECORDS = 10_000;
const MAX_BATCH_BYTES = 256 * 1024;

function fail(path: string, expected: string): never {
  throw new ProtocolError('MESSAGE_INVALID', `program events ${path}: expected ${expected}`);
}

function text(obj: Record<string, unknown>, key: string): string {
  const v = obj[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > 256) fail(key, 'a string of 1-256 characters');
  return v;
}

function count(obj: Record<string, unknown>, key: string, path: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${path}${key}`, 'a count');
  return v;
}

/** Whether an events-topic payload is a program event batch (its `kind`), without parsing all of it. */
export function isProgramEventPayload(payload: Uint8Array | string): boolean {
  const head = (
    typeof payload === 'string' ? payload : Buffer.from(payload.subarray(0, 64)).toString()
  ).slice(0, 64);
  return /^\{\s*"kind"\s*:\s*"program-events"/.test(head);
}

export function parseProgramEventBatch(payload: Uint8Array | string): ProgramEventBatch {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > MAX_BATCH_BYTES)
    throw new ProtocolError('MESSAGE_TOO_LARGE', `program events: ${size} bytes, limit ${MAX_BATCH_BYTES}`);
  let obj: unknown;
  try {
    obj = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
  } catch (err) {
    throw new ProtocolError('MESSAGE_NOT_JSON', 'program events: not valid JSON', { cause: err });
  }
  if (!isObject(obj)) fail('(root)', 'an object');
  if (obj.kind !== 'program-events') fail('kind', '"program-events"');
  if (!Array.isArray(obj.records) || obj.records.length > MAX_BATCH_RECORDS)
    fail('records', `an array (at most ${MAX_BATCH_RECORDS})`);
  const lost = obj.lost;
  if (!isObject(lost)) fail('lost', 'an object with ringFull, budget and malformed');
  return {
    kind: 'program-events',
    time: text(obj, 'time'),
    deployment: text(obj, 'deployment'),
    package: text(obj, 'package'),
    version: text(obj, 'version'),
    stream: text(obj, 'stream'),
    first: count(obj, 'first', ''),
    records: obj.records as EventRecord[],
    lost: {
      ringFull: count(lost, 'ringFull', 'lost.'),
      budget: count(lost, 'budget', 'lost.'),
      malformed: count(lost, 'malformed', 'lost.'),
    },
  };
}
