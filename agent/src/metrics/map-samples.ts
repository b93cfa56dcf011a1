// Map entries → program metrics by the manifest: values at their field paths, labels from the key, histograms.
import {
  decodeLayoutValue,
  fieldAt,
  foldPerCpu,
  histogramBounds,
  type LayoutField,
  type MapDecl,
  type MetricSpec,
} from '@bpfleet/sdk/manifest';
import type { ProgramMetric } from '../ports.js';

/** Whose metrics these are: the fixed labels every sample carries. */
export interface MetricOwner {
  deployment: string;
  package: string;
  version: string;
}

/** One entry as read: the key, and the value once (or once per CPU for per-CPU maps). */
export interface MapEntry {
  key: Uint8Array;
  values: readonly Uint8Array[];
}

function numberAt(bytes: Uint8Array, field: LayoutField): number {
  return Number(decodeLayoutValue(field.layout, bytes.subarray(field.offset, field.offset + field.size)));
}

function labelsOf(metric: MetricSpec, decl: Required<Pick<MapDecl, 'layout'>>, key: Uint8Array) {
  const labels: Record<string, string> = {};
  for (const [label, path] of Object.entries(metric.labels ?? {})) {
    const field = fieldAt(decl.layout.key, path, 'key');
    if (!field) continue;
    const text = String(
      decodeLayoutValue(field.layout, key.subarray(field.offset, field.offset + field.size)),
    );
    labels[label] = metric.labelValues?.[label]?.[text] ?? text;
  }
  return labels;
}

/** Adds one entry's bucket counts (by upper bound) into the sample of its label set. */
function addBuckets(sample: ProgramMetric, counts: { le: number; count: number }[]): void {
  const byLe = new Map((sample.buckets ?? []).map((b) => [b.le, b]));
  for (const { le, count } of counts) {
    const bucket = byLe.get(le);
    if (bucket) bucket.count += count;
    else byLe.set(le, { le, count });
  }
  sample.buckets = [...byLe.values()].sort((a, b) => a.le - b.le);
  sample.value = sample.buckets.reduce((n, b) => n + b.count, 0);
}

function histogramCounts(
  metric: MetricSpec,
  decl: Required<Pick<MapDecl, 'layout'>>,
  entry: MapEntry,
  value: Uint8Array,
) {
  const scale = metric.scale ?? 1;
  const buckets = metric.buckets ?? { kind: 'log2' as const };
  const valueField = fieldAt(decl.layout.value, metric.value ?? 'value');
  if (!valueField) return [];
  if (metric.bucket !== undefined) {
    // One entry per bucket: its index is in the key; every bound is finite, +Inf is added when rendered.
    const index = fieldAt(decl.layout.key, metric.bucket, 'key');
    if (!index) return [];
    const n = numberAt(entry.key, index);
    const le = histogramBounds(buckets, buckets.count ?? n + 2)[n] ?? Number.POSITIVE_INFINITY;
    return [{ le: le * scale, count: numberAt(value, valueField) }];
  }
  const array = decodeLayoutValue(
    valueField.layout,
    value.subarray(valueField.offset, valueField.offset + valueField.size),
  );
  const slots = (array as (number | string)[]).map(Number);
  const bounds = histogramBounds(buckets, slots.length);
  return slots.map((count, i) => ({ le: (bounds[i] as number) * scale, count }));
}

/**
 * Samples of one map's metrics. Entries whose labels come out equal add up (a metric that labels by fewer key
 * fields than the key has is the sum over the rest); per-CPU values are summed first.
 */
export function mapSamples(
  owner: MetricOwner,
  map: string,
  decl: MapDecl,
  entries: Iterable<MapEntry>,
): ProgramMetric[] {
  if (!decl.layout || !decl.metrics?.length) return [];
  const withLayout = { layout: decl.layout };
  const out = new Map<string, ProgramMetric>();
  for (const entry of entries) {
    const value =
      entry.values.length === 1
        ? (entry.values[0] as Uint8Array)
        : foldPerCpu(decl.layout.value, entry.values);
    for (const metric of decl.metrics) {
      const labels = labelsOf(metric, withLayout, entry.key);
      const id = `${metric.name}\0${JSON.stringify(labels)}`;
      let sample = out.get(id);
      if (!sample) {
        sample = {
          deployment: owner.deployment,
          map,
          name: metric.name,
          key: Object.entries(labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
          value: 0,
          type: metric.type,
          help: metric.help,
          package: owner.package,
          version: owner.version,
          labels,
        };
        out.set(id, sample);
      }
      if (metric.type === 'histogram') {
        addBuckets(sample, histogramCounts(metric, withLayout, entry, value));
        if (metric.sum !== undefined) {
          const sumField = fieldAt(decl.layout.value, metric.sum);
          if (sumField) sample.sum = (sample.sum ?? 0) + numberAt(value, sumField) * (metric.scale ?? 1);
        }
      } else {
        const field = fieldAt(decl.layout.value, metric.value ?? 'value');
        if (field) sample.value += numberAt(value, field) * (metric.scale ?? 1);
      }
    }
  }
  return [...out.values()];
}
