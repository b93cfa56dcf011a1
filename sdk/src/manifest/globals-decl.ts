// The `globals` section: `.bss`/`.data` variables the program counts in, read by their BTF offsets as metrics.
import { ManifestError } from '../errors.js';
import { expectArray, expectEntries, FieldReader, IDENTIFIER, joinPath } from './field-reader.js';
import { parseFieldLayout } from './map-layout.js';
import { parseMetric } from './metric-specs.js';
import type { GlobalsDecl, MapLayout, StructLayout } from './types.js';
import { MANIFEST_LIMITS } from './types.js';

/**
 * The variables as one struct value (their own layouts, in the order named) with no key: what metrics over globals
 * are checked and decoded against. The agent fills it from the section's bytes at each variable's BTF offset.
 */
export function globalsLayout(decl: GlobalsDecl): MapLayout {
  return { key: 'u32', value: decl.vars as StructLayout };
}

export function parseGlobals(value: unknown, path: string): GlobalsDecl {
  const reader = new FieldReader(value, path, { required: ['vars', 'metrics'] });
  const vars: StructLayout = {};
  for (const [name, layout, at] of expectEntries(
    reader.get('vars'),
    reader.at('vars'),
    MANIFEST_LIMITS.maxLayoutFields,
    IDENTIFIER,
  ))
    vars[name] = parseFieldLayout(layout, at);
  if (Object.keys(vars).length === 0)
    throw new ManifestError('EMPTY', reader.at('vars'), 'expected at least one variable');
  const decl: GlobalsDecl = { vars, metrics: [] };
  const list = expectArray(
    reader.get('metrics'),
    reader.at('metrics'),
    MANIFEST_LIMITS.maxMetricsPerMap,
    true,
  );
  decl.metrics = list.map((m, i) => {
    const at = joinPath(reader.at('metrics'), i);
    const metric = parseMetric(m, at, globalsLayout(decl));
    // A global has no key to take labels or bucket indexes from: the fixed labels are all it carries.
    if (metric.labels || metric.bucket !== undefined)
      throw new ManifestError('NOT_SUPPORTED', at, 'metrics over globals have no key: no labels, no bucket');
    if (metric.value === undefined)
      throw new ManifestError('MISSING_FIELD', joinPath(at, 'value'), 'name the variable');
    return metric;
  });
  return decl;
}
