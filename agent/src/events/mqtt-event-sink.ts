// Delivered records to the device's MQTT events topic: batched per stream, one message per batch, bounded size.
import type { EventLosses, EventRecord, ProgramEventBatch } from '@bpfleet/sdk/protocol';
import type { EventMetrics } from '../metrics/event-metrics.js';
import type { EventSink, StreamRef } from './event-sink.js';

const MAX_MESSAGE_BYTES = 128 * 1024;

interface Pending {
  ref: StreamRef;
  first: number;
  next: number;
  /** Each record as JSON text: sized once, joined into the message as is. */
  records: string[];
  bytes: number;
  lost: EventLosses;
}

export interface MqttEventSinkOptions {
  /** Publishes one message on the events topic; false when the session is down (the batch is not kept). */
  publish(payload: string): boolean;
  batchRecords: number;
  metrics: EventMetrics;
}

function none(): EventLosses {
  return { ringFull: 0, budget: 0, malformed: 0 };
}

export class MqttEventSink implements EventSink {
  private readonly pending = new Map<string, Pending>();
  /** Delivered-record numbers per stream, so the edge sees gaps. */
  private readonly numbers = new Map<string, number>();

  constructor(private readonly o: MqttEventSinkOptions) {}

  deliver(ref: StreamRef, records: EventRecord[], lost: EventLosses): void {
    const key = `${ref.deployment}/${ref.stream}`;
    let p = this.pending.get(key) ?? this.open(key, ref);
    for (const kind of ['ringFull', 'budget', 'malformed'] as const) p.lost[kind] += lost[kind];
    for (const record of records) {
      const text = JSON.stringify(record);
      const size = text.length + 1;
      if (p.records.length >= this.o.batchRecords || p.bytes + size > MAX_MESSAGE_BYTES) {
        this.send(key, p);
        this.numbers.set(key, p.next);
        p = this.open(key, ref);
      }
      p.records.push(text);
      p.bytes += size;
      p.next++;
    }
    this.numbers.set(key, p.next);
  }

  private open(key: string, ref: StreamRef): Pending {
    const first = this.numbers.get(key) ?? 0;
    const p: Pending = { ref, first, next: first, records: [], bytes: 512, lost: none() };
    this.pending.set(key, p);
    return p;
  }

  private send(key: string, p: Pending): void {
    this.pending.delete(key);
    const lost = p.lost.ringFull + p.lost.budget + p.lost.malformed;
    if (p.records.length === 0 && lost === 0) return;
    // The message is a ProgramEventBatch, `kind` first (the edge tells batches apart by it), records as sized.
    const head: Omit<ProgramEventBatch, 'records' | 'lost'> = {
      kind: 'program-events',
      time: new Date().toISOString(),
      ...p.ref,
      first: p.first,
    };
    const payload = `${JSON.stringify(head).slice(0, -1)},"records":[${p.records.join(',')}],"lost":${JSON.stringify(p.lost)}}`;
    if (!this.o.publish(payload))
      this.o.metrics.addUnpublished(p.ref.deployment, p.ref.stream, p.records.length);
  }

  flush(): void {
    for (const [key, p] of [...this.pending]) this.send(key, p);
  }

  close(): void {
    this.flush();
  }
}
