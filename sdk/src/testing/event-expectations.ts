// tests.json `expect.events`: a program's event streams captured while a test runs, decoded by the manifest, judged.
import { type Collection, drainRingBuffer, type RingBatch, type RingDrain } from '../bpf/index.js';
import { BuildError } from '../errors.js';
import { decodeLayoutValue, type Manifest } from '../manifest/index.js';

/** Per stream (the ring buffer map's name): how many records, and records that must be among them. */
export interface EventExpectation {
  /** Exactly this many records. */
  count?: number;
  /** At least this many. */
  min?: number;
  /** Each must match some record on the fields it lists (a subset of the record's fields). */
  records?: unknown[];
}

export type EventExpectations = Record<string, EventExpectation>;

export interface EventCapture {
  /** Waits until the streams are quiet, stops draining and lists what differs from the expectation. */
  finish(): Promise<string[]>;
}

const QUIET_MS = 100;
const MAX_WAIT_MS = 3000;

function matches(record: unknown, want: unknown): boolean {
  if (typeof want === 'object' && want !== null && !Array.isArray(want)) {
    if (typeof record !== 'object' || record === null) return false;
    return Object.entries(want).every(([k, v]) => matches((record as Record<string, unknown>)[k], v));
  }
  // Numbers and their decimal text are one value (large u64 decode as text).
  return String(record) === String(want);
}

/** Starts draining every stream the test names, before the program runs. */
export async function captureEvents(
  coll: Collection,
  manifest: Manifest,
  expect: EventExpectations = {},
): Promise<EventCapture> {
  const streams: Array<{ name: string; drain: RingDrain; records: unknown[]; last: number }> = [];
  try {
    for (const name of Object.keys(expect)) {
      const decl = manifest.maps?.[name]?.events;
      if (!decl)
        throw new BuildError(
          'BAD_TEST',
          `events ${name}: the manifest declares no event stream of that name`,
        );
      const stream = {
        name,
        records: [] as unknown[],
        last: Date.now(),
        drain: undefined as unknown as RingDrain,
      };
      stream.drain = await drainRingBuffer(
        coll.map(name),
        (batch: RingBatch) => {
          let off = 0;
          for (let i = 0; i < batch.count; i++) {
            const size = batch.sizes[i] as number;
            stream.records.push(decodeLayoutValue(decl.record, batch.bytes.subarray(off, off + size)));
            off += size;
          }
          stream.last = Date.now();
        },
        { flushMs: 10 },
      );
      streams.push(stream);
    }
  } catch (err) {
    for (const s of streams) await s.drain.close();
    throw err;
  }
  return {
    async finish() {
      const started = Date.now();
      while (Date.now() - started < MAX_WAIT_MS && streams.some((s) => Date.now() - s.last < QUIET_MS))
        await new Promise((r) => setTimeout(r, 20));
      const failures: string[] = [];
      for (const s of streams) {
        await s.drain.close();
        const want = expect[s.name] as EventExpectation;
        const got = s.records.length;
        if (want.count !== undefined && got !== want.count)
          failures.push(`events ${s.name}: expected ${want.count} records, got ${got}`);
        if (want.min !== undefined && got < want.min)
          failures.push(`events ${s.name}: expected at least ${want.min} records, got ${got}`);
        for (const [i, record] of (want.records ?? []).entries()) {
          if (!s.records.some((r) => matches(r, record)))
            failures.push(
              `events ${s.name}: records[${i}] ${JSON.stringify(record)} not among the ${got} records${got > 0 ? ` (first: ${JSON.stringify(s.records[0])})` : ''}`,
            );
        }
      }
      return failures;
    },
  };
}
