// Telemetry over time at the edge: per device and series, raw samples and downsampled tiers, each with a bound.
import type { Telemetry } from '@bpfleet/sdk/protocol';

/** One resolution: points `bucketMs` wide (0: every sample as it came), kept `keepMs`. */
export interface HistoryTier {
  bucketMs: number;
  keepMs: number;
}

export interface TelemetryRetention {
  /** Finest first; a query reads the finest tier that still covers its `since`. */
  tiers: HistoryTier[];
  /** Raw samples kept per series even inside the raw tier's age (a device reporting every second keeps 6 min). */
  rawPerSeries: number;
  /** Series a device may have; samples of further series are dropped and counted (a label that explodes). */
  seriesPerDevice: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * Raw for an hour, 1-minute points for a day, 10-minute points for a week. Per series at most
 * 360 + 1440 + 1008 rows, and 128 series per device: under 360k rows (~20 MB) per device at worst,
 * a few thousand for a device reporting ten series every 30 s (the agent's default).
 */
export const DEFAULT_TELEMETRY_RETENTION: TelemetryRetention = {
  tiers: [
    { bucketMs: 0, keepMs: HOUR },
    { bucketMs: MINUTE, keepMs: 24 * HOUR },
    { bucketMs: 10 * MINUTE, keepMs: 7 * 24 * HOUR },
  ],
  rawPerSeries: 360,
  seriesPerDevice: 128,
};

/** A point of a series: the samples that fell into [at, at + step). */
export interface HistoryPoint {
  at: string;
  samples: number;
  avg: number;
  min: number;
  max: number;
  last: number;
  /** Counters only: what the counter rose in the point (resets counted from zero), per second of the step. */
  rate?: number;
}

export interface HistorySeries {
  deployment: string;
  map: string;
  name: string;
  key: string;
  /** Named `…_total` (the manifest's counter convention): stored with increases so rates can be computed. */
  counter: boolean;
  points: HistoryPoint[];
}

export interface HistoryQuery {
  /** A metric name; all the device's series when absent. */
  name?: string;
  since: Date;
  /** Point width in ms; at least the chosen tier's bucket (0 returns that tier's points as stored). */
  stepMs?: number;
}

export interface HistoryResult {
  /** The width of the returned points in ms (0: raw samples). */
  stepMs: number;
  series: HistorySeries[];
  /** Samples refused since the edge started because the device had too many series. */
  droppedSeries: number;
}

export interface TelemetryHistoryStore {
  record(device: string, telemetry: Telemetry, now: Date): void;
  query(device: string, query: HistoryQuery, now: Date): HistoryResult;
  removeDevice(device: string): void;
}
