// A map's metric declarations: counters, gauges and histograms, their fields, labels and Prometheus names.
import { ManifestError } from '../errors.js';
import {
  DESCRIPTION,
  expectEntries,
  expectInteger,
  expectString,
  FieldReader,
  IDENTIFIER,
} from './field-reader.js';
import { fieldAt, isArrayLayout, isIntegerLeaf, isLeafLayout, isStructLayout } from './map-layout.js';
import type { HistogramBuckets, MapLayout, MetricSpec, MetricType } from './types.js';
import { MANIFEST_LIMITS, METRIC_TYPES } from './types.js';

const METRIC_NAME = {
  max: 128,
  pattern: /^(?!__)[a-z_][a-z0-9_]*$/,
  expected: 'a Prometheus name [a-z_][a-z0-9_]*',
};
const LABEL_VALUE_KEY = { max: 20, pattern: /^-?(0|[1-9][0-9]*)$/, expected: 'a decimal integer' };
const LABEL_TEXT = { max: 128 };
/** Labels every program metric carries (the exporter adds them); a manifest label may not reuse them. */
export const FIXED_LABELS = ['deployment', 'package', 'version'] as const;
const RESERVED_LABELS = [...FIXED_LABELS, 'le', 'quantile'];

const PREFIXES = 'pico|nano|micro|milli|centi|deci|kilo|mega|giga|tera|peta|kibi|mebi|gibi|tebi|pebi';
const PREFIXED_UNIT = new RegExp(`^(${PREFIXES})(seconds|bytes|meters|grams|joules|volts|amperes)$`);
const NON_BASE: Record<string, string> = {
  minutes: 'seconds',
  hours: 'seconds',
  days: 'seconds',
  weeks: 'seconds',
  bits: 'bytes',
  ms: 'seconds',
  us: 'seconds',
  ns: 'seconds',
  sec: 'seconds',
  secs: 'seconds',
  kb: 'bytes',
  mb: 'bytes',
  gb: 'bytes',
};
const TYPE_WORDS = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

/**
 * Why `name` breaks Prometheus naming conventions for a metric of `type` (the rules `promtool check metrics`
 * lints by), or undefined when it keeps them.
 */
export function metricNameProblem(name: string, type: MetricType): string | undefined {
  if (!METRIC_NAME.pattern.test(name)) return `${JSON.stringify(name)} is not ${METRIC_NAME.expected}`;
  if (type === 'counter' && !name.endsWith('_total'))
    return `a counter's name ends in _total (${name}_total)`;
  if (type !== 'counter' && name.endsWith('_total')) return `only a counter's name ends in _total`;
  const suffix = ['_bucket', '_count', '_sum'].find((s) => name.endsWith(s));
  if (suffix) return `${suffix} is a suffix Prometheus keeps for histogram series`;
  for (const part of name.split('_')) {
    const base = PREFIXED_UNIT.exec(part)?.[2] ?? NON_BASE[part];
    if (base)
      return `use the base unit ${base} instead of ${part} (set "scale" to convert the program's values)`;
    if (TYPE_WORDS.includes(part)) return `the name should not say the metric's type (${part})`;
  }
  return undefined;
}

/** A label name: Prometheus' pattern, not one the exporter sets itself or reserves for histograms. */
function labelNameProblem(label: string): string | undefined {
  if (RESERVED_LABELS.includes(label))
    return `${label} is set by the exporter or reserved (${RESERVED_LABELS.join(', ')})`;
  return undefined;
}

/** Upper bounds of a histogram's buckets (integer samples, in the program's unit; `Infinity` for the last). */
export function histogramBounds(buckets: HistogramBuckets, count: number): number[] {
  return Array.from({ length: count }, (_, n) => {
    if (n === count - 1) return Number.POSITIVE_INFINITY;
    if (buckets.kind === 'log2') return 2 ** n - 1;
    return (buckets.min ?? 0) + (n + 1) * (buckets.width ?? 1) - 1;
  });
}

function intField(layout: MapLayout['value'], path: string, at: string, what: string): void {
  const field = fieldAt(layout, path);
  if (!field) throw new ManifestError('UNKNOWN_REFERENCE', at, `no ${what} field ${JSON.stringify(path)}`);
  if (!isIntegerLeaf(field.layout))
    throw new ManifestError('FIELD_TYPE', at, `the exported ${what} must be an integer field`);
}

function parseHistogram(reader: FieldReader, metric: MetricSpec, layout: MapLayout): void {
  const b = new FieldReader(reader.get('buckets'), reader.at('buckets'), {
    required: ['kind'],
    optional: ['min', 'width', 'count'],
  });
  const buckets: HistogramBuckets = { kind: b.enumOf('kind', ['log2', 'linear'] as const) };
  if (buckets.kind === 'linear') {
    buckets.min = b.has('min') ? expectInteger(b.get('min'), b.at('min'), -(2 ** 52), 2 ** 52) : 0;
    buckets.width = expectInteger(b.get('width'), b.at('width'), 1, 2 ** 52);
  }
  if (b.has('count'))
    buckets.count = expectInteger(b.get('count'), b.at('count'), 1, MANIFEST_LIMITS.maxArrayLength);
  metric.buckets = buckets;
  const valuePath = metric.value ?? 'value';
  const at = reader.at('value');
  if (reader.has('bucket')) {
    // One map entry per bucket: the key field holds the index, the value field the count.
    metric.bucket = reader.string('bucket', IDENTIFIER);
    const key = fieldAt(layout.key, metric.bucket, 'key');
    if (!key || !isIntegerLeaf(key.layout)) {
      throw new ManifestError(
        'UNKNOWN_REFERENCE',
        reader.at('bucket'),
        `no integer key field ${metric.bucket}`,
      );
    }
    intField(layout.value, valuePath, at, 'value');
  } else {
    const field = fieldAt(layout.value, valuePath);
    if (!field || !isArrayLayout(field.layout) || !isIntegerLeaf(field.layout.of)) {
      throw new ManifestError(
        'FIELD_TYPE',
        at,
        'a histogram exports an integer array field (u32 slots[n]), or names its key field in "bucket"',
      );
    }
  }
  if (reader.has('sum')) {
    metric.sum = reader.string('sum', { max: 256 });
    intField(layout.value, metric.sum, reader.at('sum'), 'sum');
  }
}

export function parseMetric(value: unknown, path: string, layout: MapLayout): MetricSpec {
  const reader = new FieldReader(value, path, {
    required: ['name', 'type', 'help'],
    optional: ['value', 'labels', 'labelValues', 'perCpu', 'bucket', 'sum', 'buckets', 'scale'],
  });
  const metric: MetricSpec = {
    name: reader.string('name', METRIC_NAME),
    type: reader.enumOf('type', METRIC_TYPES),
    help: reader.string('help', DESCRIPTION),
  };
  if (reader.has('value')) metric.value = reader.string('value', { max: 256 });
  else if (isStructLayout(layout.value)) {
    throw new ManifestError(
      'MISSING_FIELD',
      reader.at('value'),
      'required when the value layout is a struct',
    );
  }
  if (metric.type === 'histogram') {
    if (!reader.has('buckets'))
      throw new ManifestError('MISSING_FIELD', reader.at('buckets'), 'required for a histogram');
    parseHistogram(reader, metric, layout);
  } else {
    for (const f of ['bucket', 'sum', 'buckets']) {
      if (reader.has(f))
        throw new ManifestError(
          'UNKNOWN_FIELD',
          reader.at(f),
          `only histograms have ${f}, not a ${metric.type}`,
        );
    }
    intField(layout.value, metric.value ?? 'value', reader.at('value'), 'value');
  }
  if (reader.has('scale')) {
    const scale = reader.get('scale');
    if (typeof scale !== 'number' || !(scale > 0) || !Number.isFinite(scale))
      throw new ManifestError(
        'INVALID_VALUE',
        reader.at('scale'),
        'expected a positive number (1e-6: µs → s)',
      );
    metric.scale = scale;
  }
  parseLabels(reader, metric, layout);
  if (reader.has('perCpu')) metric.perCpu = reader.enumOf('perCpu', ['sum'] as const);
  return metric;
}

function parseLabels(reader: FieldReader, metric: MetricSpec, layout: MapLayout): void {
  if (reader.has('labels')) {
    metric.labels = {};
    const labels = expectEntries(
      reader.get('labels'),
      reader.at('labels'),
      MANIFEST_LIMITS.maxLabels,
      METRIC_NAME,
    );
    for (const [label, field, labelPath] of labels) {
      const problem = labelNameProblem(label);
      if (problem) throw new ManifestError('RESERVED_LABEL', labelPath, problem);
      const name = expectString(field, labelPath, { max: 256 });
      const keyField = fieldAt(layout.key, name, 'key');
      if (!keyField || !isLeafLayout(keyField.layout))
        throw new ManifestError(
          'UNKNOWN_REFERENCE',
          labelPath,
          `no key field ${JSON.stringify(name)} (a value, not a struct or array)`,
        );
      if (name === metric.bucket)
        throw new ManifestError(
          'CONFLICT',
          labelPath,
          `${name} is the histogram's bucket index, not a label`,
        );
      metric.labels[label] = name;
    }
  }
  if (!reader.has('labelValues')) return;
  metric.labelValues = {};
  const entries = expectEntries(
    reader.get('labelValues'),
    reader.at('labelValues'),
    MANIFEST_LIMITS.maxLabels,
    METRIC_NAME,
  );
  for (const [label, names, labelPath] of entries) {
    if (metric.labels?.[label] === undefined)
      throw new ManifestError('UNKNOWN_REFERENCE', labelPath, `no label ${JSON.stringify(label)} in labels`);
    const mapping: { [value: string]: string } = {};
    for (const [key, text, keyPath] of expectEntries(
      names,
      labelPath,
      MANIFEST_LIMITS.maxLabelValues,
      LABEL_VALUE_KEY,
    ))
      mapping[key] = expectString(text, keyPath, LABEL_TEXT);
    metric.labelValues[label] = mapping;
  }
}

/** Build and publish refuse a metric name that breaks Prometheus conventions (parsing alone accepts older ones). */
export function assertMetricConventions(
  maps: { [name: string]: { metrics?: MetricSpec[] } } | undefined,
  globals?: { metrics: MetricSpec[] },
): void {
  globals?.metrics.forEach((metric, i) => {
    const problem = metricNameProblem(metric.name, metric.type);
    if (problem)
      throw new ManifestError('METRIC_NAME', `globals.metrics[${i}].name`, `${metric.name}: ${problem}`);
  });
  for (const [map, decl] of Object.entries(maps ?? {})) {
    decl.metrics?.forEach((metric, i) => {
      const problem = metricNameProblem(metric.name, metric.type);
      if (problem)
        throw new ManifestError(
          'METRIC_NAME',
          `maps.${map}.metrics[${i}].name`,
          `${metric.name}: ${problem}`,
        );
    });
  }
}
