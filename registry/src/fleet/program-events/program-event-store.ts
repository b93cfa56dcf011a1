// Program events at the edge: what devices' event streams delivered, kept per device within count and age bounds.
import type { EventLosses, EventRecord, ProgramEventBatch } from '@bpfleet/sdk/protocol';

export interface StoredProgramEvent {
  device: string;
  receivedAt: string;
  deployment: string;
  package: string;
  version: string;
  stream: string;
  /** The record's number in its stream, as the device counted it. */
  number: number;
  record: EventRecord;
}

/** Per device, deployment and stream: what arrived and what the device said it lost, since the edge first heard. */
export interface StreamTotals {
  deployment: string;
  package: string;
  version: string;
  stream: string;
  received: number;
  lost: EventLosses;
  lastAt: string;
}

export interface ProgramEventQuery {
  /** A deployment id or a package name (`ns/name`). */
  program?: string;
  stream?: string;
  /** Newest first, at most this many (default 100). */
  limit?: number;
}

export interface ProgramEventRetention {
  /** Records kept per device; older ones go as new ones arrive (default 10,000). */
  perDevice: number;
  /** Records older than this are removed (default 7 days). */
  maxAgeMs: number;
}

export const DEFAULT_RETENTION: ProgramEventRetention = { perDevice: 10_000, maxAgeMs: 7 * 24 * 3600 * 1000 };

export interface ProgramEventStore {
  record(device: string, batch: ProgramEventBatch, now: Date): void;
  /** Newest first. */
  list(device: string, query?: ProgramEventQuery): StoredProgramEvent[];
  totals(device: string): StreamTotals[];
  removeDevice(device: string): void;
}
