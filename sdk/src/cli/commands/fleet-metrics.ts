// `bpfleet fleet device <id> --metrics [name]`: a device's telemetry over time, one line and sparkline per series.
import type { MetricHistoryView } from '../../registry-client/fleet-client.js';

export const METRICS_HELP = `
Telemetry over time (the edge keeps raw samples for an hour, 1-minute points for a day, 10-minute for a week):
  bpfleet fleet device gw-17 --metrics                         every series of the last hour
  bpfleet fleet device gw-17 --metrics bpfleet_xdp_firewall_packets_total --since 6h --step 10m
  bpfleet fleet device gw-17 --metrics --since 2026-03-01T00:00:00Z --json

Counters (names ending in _total) are drawn as their rate per second, gauges as their average per point.`;

const DURATION = /^[1-9][0-9]{0,5}[smhd]$/;
const BARS = '▁▂▃▄▅▆▇█';
const WIDTH = 48;

/** A usage problem with --since / --step, or undefined. */
export function metricsUsageProblem(since: string | undefined, step: string | undefined): string | undefined {
  if (since !== undefined && !DURATION.test(since) && Number.isNaN(Date.parse(since)))
    return `--since ${since}: expected a duration (30m, 6h, 7d) or an RFC 3339 time`;
  if (step !== undefined && !DURATION.test(step)) return `--step ${step}: expected a duration (1m, 10m, 1h)`;
  return undefined;
}

export function sparkline(values: number[]): string {
  const shown = values.slice(-WIDTH);
  const lo = Math.min(...shown);
  const hi = Math.max(...shown);
  return shown
    .map((v) => BARS[hi === lo ? 0 : Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1))])
    .join('');
}

const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(4));

export function metricsText(view: MetricHistoryView): string {
  const step = view.stepSeconds === 0 ? 'raw samples' : `${view.stepSeconds}s points`;
  const lines = [`${view.device}: ${step} since ${view.since}`];
  const labelled = view.series.map((s) => `${s.deployment} ${s.name}${s.key ? `{${s.key}}` : ''}`);
  const pad = Math.max(0, ...labelled.map((l) => l.length));
  view.series.forEach((s, i) => {
    const values = s.counter
      ? s.points.flatMap((p) => (p.rate === undefined ? [] : [p.rate]))
      : s.points.map((p) => p.avg);
    const last = s.points.at(-1);
    const now = s.counter
      ? `rate ${values.length > 0 ? num(values.at(-1)!) : '-'}/s`
      : `last ${num(last?.last ?? 0)}`;
    const range =
      values.length > 0 ? ` (min ${num(Math.min(...values))}, max ${num(Math.max(...values))})` : '';
    lines.push(
      `  ${labelled[i]!.padEnd(pad)}  ${now}${range}  ${sparkline(values)}  ${s.points.length} points`,
    );
  });
  if (view.series.length === 0) lines.push('  (no telemetry in this window)');
  if (view.droppedSeries > 0)
    lines.push(`  ${view.droppedSeries} samples dropped: the device has more series than the edge keeps`);
  return lines.join('\n');
}
