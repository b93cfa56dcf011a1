// Stored rows to series of points: rows of one series merged into points `stepMs` wide, with rates for counters.
import type { HistoryPoint, HistorySeries } from './telemetry-history-store.js';

export interface PointRow {
  deployment: string;
  map: string;
  name: string;
  key: string;
  counter: number;
  at: number;
  samples: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  increase: number;
  span_ms: number;
}

interface Acc {
  at: number;
  samples: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  increase: number;
  span: number;
}

function toPoint(a: Acc, counter: boolean): HistoryPoint {
  const point: HistoryPoint = {
    at: new Date(a.at).toISOString(),
    samples: a.samples,
    avg: a.sum / a.samples,
    min: a.min,
    max: a.max,
    last: a.last,
  };
  // The rise over the time the samples cover: a first sample (no previous one) has no rate.
  if (counter && a.span > 0) point.rate = (a.increase * 1000) / a.span;
  return point;
}

/** Rows come ordered by series then time. */
export function toSeries(rows: PointRow[], stepMs: number): HistorySeries[] {
  const out: HistorySeries[] = [];
  let current: HistorySeries | undefined;
  let acc: Acc | undefined;
  const flush = () => {
    if (current && acc) current.points.push(toPoint(acc, current.counter));
    acc = undefined;
  };
  for (const r of rows) {
    if (!current || current.deployment !== r.deployment || current.name !== r.name || current.key !== r.key) {
      flush();
      current = {
        deployment: r.deployment,
        map: r.map,
        name: r.name,
        key: r.key,
        counter: r.counter === 1,
        points: [],
      };
      out.push(current);
    }
    const at = stepMs === 0 ? r.at : Math.floor(r.at / stepMs) * stepMs;
    if (acc && acc.at !== at) flush();
    if (!acc) {
      acc = { at, samples: 0, sum: 0, min: r.min, max: r.max, last: r.last, increase: 0, span: 0 };
    }
    acc.samples += r.samples;
    acc.sum += r.sum;
    acc.min = Math.min(acc.min, r.min);
    acc.max = Math.max(acc.max, r.max);
    acc.last = r.last;
    acc.increase += r.increase;
    acc.span += r.span_ms;
  }
  flush();
  return out;
}
