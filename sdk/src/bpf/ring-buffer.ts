// RingBufferReader: delivers ring buffer samples as events, polling on a worker thread.
import { BpfError } from '../errors.js';
import { errnoName } from './internal/fd.js';
import { libbpf, type RingBufferHandle, ringBufferNew, ringBufferPoll } from './internal/libbpf.js';
import type { BpfMap } from './map.js';

const EINTR = 4;

export type SampleHandler = (sample: Uint8Array) => void;

export class RingBufferReader {
  #rb: RingBufferHandle | null;
  readonly #release: () => void;
  readonly #name: string;
  #running: Promise<void>;
  #stopping = false;
  #error: Error | undefined;

  constructor(name: string, rb: RingBufferHandle, release: () => void, pollMs: number) {
    this.#name = name;
    this.#rb = rb;
    this.#release = release;
    this.#running = this.#loop(rb, pollMs);
  }

  /** Set when polling failed; the reader has stopped then. */
  get error(): Error | undefined {
    return this.#error;
  }

  async #loop(rb: RingBufferHandle, pollMs: number): Promise<void> {
    // Each poll blocks a worker thread for at most pollMs; samples reach JS through koffi's callback queue.
    while (!this.#stopping) {
      const rc = await ringBufferPoll(rb, pollMs);
      if (rc < 0 && -rc !== EINTR) {
        this.#error = new BpfError(
          `RINGBUF_${errnoName(rc)}`,
          `ring buffer ${this.#name}: poll: ${errnoName(rc)}`,
        );
        return;
      }
    }
  }

  /** Stops polling, waits for the in-flight poll, frees the buffer. */
  async close(): Promise<void> {
    if (!this.#rb) return;
    this.#stopping = true;
    await this.#running;
    libbpf.ringFree(this.#rb);
    this.#rb = null;
    this.#release();
  }
}

export interface RingBufferOptions {
  /** How long one poll may block a worker thread; also the latency of close(). */
  pollMs?: number;
}

export function readRingBuffer(
  map: BpfMap,
  onSample: SampleHandler,
  options: RingBufferOptions = {},
): RingBufferReader {
  if (map.info.type !== 'ringbuf') {
    throw new BpfError('NOT_RINGBUF', `ring buffer ${map.name}: map type is ${map.info.type}`);
  }
  const { rb, errno, release } = ringBufferNew(map.fd, onSample);
  if (!rb) {
    release();
    throw new BpfError(`RINGBUF_${errnoName(errno)}`, `ring buffer ${map.name}: ${errnoName(errno)}`);
  }
  return new RingBufferReader(map.name, rb, release, options.pollMs ?? 100);
}
