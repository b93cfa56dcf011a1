// One event stream drained: records checked against the layout's size, sampled by the budget, decoded, delivered.
import { existsSync } from 'node:fs';
import {
  type BpfMap,
  drainRingBuffer,
  openPinnedMap,
  type RingBatch,
  type RingDrain,
} from '@bpfleet/sdk/bpf';
import { errorMessage } from '@bpfleet/sdk/errors';
import { decodeLayoutValue, type EventStreamDecl, layoutSize } from '@bpfleet/sdk/manifest';
import type { EventLosses, EventRecord } from '@bpfleet/sdk/protocol';
import type { Logger } from '../logger.js';
import type { EventMetrics } from '../metrics/event-metrics.js';
import { type EventBudget, sampleIndexes } from './event-budget.js';
import type { EventSink, StreamRef } from './event-sink.js';

export interface StreamDrainDeps {
  budget: EventBudget;
  sinks: EventSink[];
  metrics: EventMetrics;
  logger: Logger;
}

/** The sum of every entry's integer value (over all CPUs for per-CPU maps): the records the program refused. */
function counterSum(map: BpfMap): number {
  let sum = 0n;
  const size = map.info.valueSize;
  for (const [, raw] of map.entries()) {
    const stride = map.perCpu ? Math.ceil(size / 8) * 8 : raw.length;
    for (let off = 0; off + size <= raw.length; off += stride) {
      const view = new DataView(raw.buffer, raw.byteOffset + off, size);
      sum +=
        size === 8
          ? view.getBigUint64(0, true)
          : BigInt(size === 4 ? view.getUint32(0, true) : (raw[off] ?? 0));
    }
  }
  return Number(sum);
}

export class StreamDrain {
  /** The ring's kernel map id: a new version's ring under the same pin is another stream. */
  readonly mapId: number;
  #ringFullSeen: number | undefined;
  #pendingRingFull = 0;
  readonly #recordSize: number;
  #drain: RingDrain | undefined;

  private constructor(
    readonly ref: StreamRef,
    private readonly decl: EventStreamDecl,
    private readonly ring: BpfMap,
    private readonly counter: BpfMap | undefined,
    private readonly deps: StreamDrainDeps,
  ) {
    this.mapId = ring.info.id;
    this.#recordSize = layoutSize(decl.record);
  }

  static async open(
    ref: StreamRef,
    decl: EventStreamDecl,
    ringPath: string,
    counterPath: string | undefined,
    deps: StreamDrainDeps,
  ): Promise<StreamDrain> {
    const ring = openPinnedMap(ringPath);
    // Held open with the ring: after an upgrade the pin names the next version's counter, not this ring's.
    let counter: BpfMap | undefined;
    try {
      counter = counterPath && existsSync(counterPath) ? openPinnedMap(counterPath) : undefined;
      const stream = new StreamDrain(ref, decl, ring, counter, deps);
      stream.#drain = await drainRingBuffer(ring, (batch) => stream.onBatch(batch));
      return stream;
    } catch (err) {
      ring.close();
      counter?.close();
      throw err;
    }
  }

  private onBatch(batch: RingBatch): void {
    const { ref, deps } = this;
    const size = this.#recordSize;
    // Offsets of the records of the layout's size (all of them, unless the program sends others).
    const valid = new Int32Array(batch.count);
    let n = 0;
    let offset = 0;
    for (let i = 0; i < batch.count; i++) {
      const length = batch.sizes[i] as number;
      if (length === size) valid[n++] = offset;
      offset += length;
    }
    const malformed = batch.count - n;
    const admitted = deps.budget.take(n);
    const records: EventRecord[] = new Array(admitted);
    const decode = (at: number) =>
      decodeLayoutValue(this.decl.record, batch.bytes.subarray(at, at + size)) as EventRecord;
    if (admitted === n) for (let i = 0; i < n; i++) records[i] = decode(valid[i] as number);
    else
      sampleIndexes(n, admitted).forEach((v, i) => {
        records[i] = decode(valid[v] as number);
      });
    const lost: EventLosses = {
      ringFull: this.takeRingFull(),
      budget: n - admitted,
      malformed,
    };
    deps.metrics.addDelivered(ref.deployment, ref.stream, records.length);
    deps.metrics.addLost(ref.deployment, ref.stream, 'budget', lost.budget);
    deps.metrics.addLost(ref.deployment, ref.stream, 'malformed', malformed);
    for (const sink of deps.sinks) sink.deliver(ref, records, lost);
  }

  private takeRingFull(): number {
    const n = this.#pendingRingFull;
    this.#pendingRingFull = 0;
    return n;
  }

  /** Reads the program's drop counter; new drops are counted now and reported with the next delivery. */
  pollLost(): void {
    if (!this.counter) return;
    try {
      const total = counterSum(this.counter);
      const delta = Math.max(0, total - (this.#ringFullSeen ?? 0));
      this.#ringFullSeen = total;
      if (delta === 0) return;
      this.deps.metrics.addLost(this.ref.deployment, this.ref.stream, 'ring_full', delta);
      this.#pendingRingFull += delta;
    } catch (err) {
      this.deps.logger.warn('event stream: reading the drop counter failed', {
        ...this.ref,
        error: errorMessage(err),
      });
    }
  }

  /** Drops counted and not yet carried by a delivery go out on their own. */
  reportLost(): void {
    const ringFull = this.takeRingFull();
    if (ringFull === 0) return;
    for (const sink of this.deps.sinks) sink.deliver(this.ref, [], { ringFull, budget: 0, malformed: 0 });
  }

  get error(): Error | undefined {
    return this.#drain?.error;
  }

  /** Drains what the worker holds, counts the last drops, closes the ring. */
  async close(): Promise<void> {
    await this.#drain?.close();
    this.pollLost();
    this.reportLost();
    this.ring.close();
    this.counter?.close();
  }
}
