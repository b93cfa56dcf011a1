// Where delivered records go: the sinks' one interface, and what each record says about its stream.
import type { EventLosses, EventRecord } from '@bpfleet/sdk/protocol';

/** One event stream of one deployment: a ring buffer map named in its manifest. */
export interface StreamRef {
  deployment: string;
  package: string;
  version: string;
  stream: string;
}

export interface EventSink {
  /** Records delivered in order; `lost` counts the records of this stream lost since the previous call. */
  deliver(ref: StreamRef, records: EventRecord[], lost: EventLosses): void;
  /** Sends what is held (called every flush interval and at stop). */
  flush(): void;
  close(): void;
}
