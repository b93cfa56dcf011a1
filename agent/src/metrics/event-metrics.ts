// Counters of the programs' event streams: every record emitted is counted once, delivered or lost with a reason.
import { Counter, type Registry } from 'prom-client';

/** Why a record never reached the sinks: the ring was full, over the device's budget, or not the record's size. */
export type EventLossReason = 'ring_full' | 'budget' | 'malformed';

export class EventMetrics {
  private readonly delivered: Counter<'deployment' | 'stream'>;
  private readonly lost: Counter<'deployment' | 'stream' | 'reason'>;
  private readonly unpublished: Counter<'deployment' | 'stream'>;

  constructor(registry: Registry) {
    this.delivered = new Counter({
      name: 'bpfleet_events_total',
      help: 'Event stream records delivered to the sinks (MQTT, JSON lines)',
      labelNames: ['deployment', 'stream'],
      registers: [registry],
    });
    this.lost = new Counter({
      name: 'bpfleet_events_lost_total',
      help: 'Event stream records lost, by reason: ring_full (the program counted a failed reserve), budget, malformed',
      labelNames: ['deployment', 'stream', 'reason'],
      registers: [registry],
    });
    this.unpublished = new Counter({
      name: 'bpfleet_events_unpublished_total',
      help: 'Delivered records not published because the MQTT session was down (kept in the local sink only)',
      labelNames: ['deployment', 'stream'],
      registers: [registry],
    });
  }

  addDelivered(deployment: string, stream: string, n: number): void {
    if (n > 0) this.delivered.inc({ deployment, stream }, n);
  }

  addLost(deployment: string, stream: string, reason: EventLossReason, n: number): void {
    if (n > 0) this.lost.inc({ deployment, stream, reason }, n);
  }

  addUnpublished(deployment: string, stream: string, n: number): void {
    if (n > 0) this.unpublished.inc({ deployment, stream }, n);
  }
}
