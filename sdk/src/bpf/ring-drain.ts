// drainRingBuffer: a ring buffer drained on a worker thread in batches, with a bounded number in flight.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { BpfError } from '../errors.js';
import { errnoName } from './internal/fd.js';
import { RING_DRAIN_WORKER } from './internal/ring-drain-worker.js';
import type { BpfMap } from './map.js';

/** Records drained in one go: record i is `bytes` from the sum of `sizes[0..i)` for `sizes[i]` bytes. */
export interface RingBatch {
  count: number;
  bytes: Uint8Array;
  sizes: Uint32Array;
}

export interface RingDrainOptions {
  /** Records per batch (default 1024). */
  maxRecords?: number;
  /** Bytes per batch (default 256 KiB); a larger sample comes alone. */
  maxBytes?: number;
  /**
   * Batches handed over and not yet handled (default 2). Past it the worker stops consuming: the ring fills
   * and the program's reserves fail, so memory stays `maxInFlight × maxBytes` under any producer rate.
   */
  maxInFlight?: number;
  /** How long one epoll wait may block the worker; also the latency of close() (default 100 ms). */
  pollMs?: number;
  /** A partial batch waits at most this long for more records before it is handed over (default 50 ms). */
  flushMs?: number;
}

/** Called on the main thread per batch; the next batch past `maxInFlight` waits until this one settles. */
export type BatchHandler = (batch: RingBatch) => void | Promise<void>;

export class RingDrain {
  #drained = 0;
  #error: Error | undefined;
  #closed: Promise<void>;
  readonly #worker: Worker;
  readonly #ctl: Int32Array;

  constructor(worker: Worker, ctl: Int32Array, closed: Promise<void>) {
    this.#worker = worker;
    this.#ctl = ctl;
    this.#closed = closed;
  }

  /** Records handed to the handler so far. */
  get drained(): number {
    return this.#drained;
  }

  /** Set when the worker failed; it has stopped then. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** @internal */
  counted(n: number): void {
    this.#drained += n;
  }

  /** @internal */
  failed(err: Error): void {
    this.#error ??= err;
  }

  /** Stops the worker after it hands over what it holds, waits for it and for the handler. */
  async close(): Promise<void> {
    Atomics.store(this.#ctl, 0, 1);
    Atomics.notify(this.#ctl, 1);
    await this.#closed;
    await this.#worker.terminate();
  }
}

function koffiPath(): string {
  return createRequire(import.meta.url).resolve('koffi');
}

/** Starts draining `map` (a ring buffer; the caller keeps it open until close() returns). */
export async function drainRingBuffer(
  map: BpfMap,
  onBatch: BatchHandler,
  options: RingDrainOptions = {},
): Promise<RingDrain> {
  if (map.info.type !== 'ringbuf') {
    throw new BpfError('NOT_RINGBUF', `ring buffer ${map.name}: map type is ${map.info.type}`);
  }
  const ctl = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(RING_DRAIN_WORKER, {
    eval: true,
    workerData: {
      koffiPath: koffiPath(),
      fd: map.fd,
      size: map.info.maxEntries,
      ctl: ctl.buffer,
      maxRecords: options.maxRecords ?? 1024,
      maxBytes: options.maxBytes ?? 256 * 1024,
      maxInFlight: options.maxInFlight ?? 2,
      pollMs: options.pollMs ?? 100,
      flushMs: options.flushMs ?? 50,
    },
    // The worker only copies bytes: a small heap, so a leak there cannot grow the agent.
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 8 },
  });
  let settle: (() => void) | undefined;
  const closed = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const drain = new RingDrain(worker, ctl, closed);
  let handling = Promise.resolve();
  let ready: ((err?: Error) => void) | undefined;
  const started = new Promise<void>((resolve, reject) => {
    ready = (err) => (err ? reject(err) : resolve());
  });
  const fail = (err: Error) => {
    drain.failed(err);
    ready?.(err);
  };
  worker.on('message', (msg: { type: string; errno?: number } & Partial<RingBatch>) => {
    if (msg.type === 'ready') ready?.();
    else if (msg.type === 'error') {
      const name = errnoName(msg.errno ?? 0);
      fail(new BpfError(`RINGBUF_${name}`, `ring buffer ${map.name}: ${name}`));
    } else if (msg.type === 'batch') {
      const batch = {
        count: msg.count ?? 0,
        bytes: msg.bytes as Uint8Array,
        sizes: msg.sizes as Uint32Array,
      };
      // Batches are handled one after another, in order; the worker may run ahead by maxInFlight.
      handling = handling.then(async () => {
        try {
          await onBatch(batch);
        } catch (err) {
          drain.failed(err instanceof Error ? err : new Error(String(err)));
        } finally {
          drain.counted(batch.count);
          Atomics.sub(ctl, 1, 1);
          Atomics.notify(ctl, 1);
        }
      });
    } else if (msg.type === 'done') {
      void handling.then(() => settle?.());
    }
  });
  worker.on('error', (err) => {
    fail(new BpfError('RINGBUF_WORKER', `ring buffer ${map.name}: worker: ${err.message}`, { cause: err }));
    void handling.then(() => settle?.());
  });
  worker.on('exit', () => void handling.then(() => settle?.()));
  try {
    await started;
  } catch (err) {
    await drain.close();
    throw err;
  }
  return drain;
}
