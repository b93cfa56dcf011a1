// The `maps` section: persistence across upgrades, layouts, and the metrics a map exports.
import { ManifestError } from '../errors.js';
import { checkEventStreams, parseEventStream } from './event-streams.js';
import {
  DESCRIPTION,
  expectArray,
  expectEntries,
  FieldReader,
  IDENTIFIER,
  joinPath,
} from './field-reader.js';
import { derivationLayoutProblem } from './map-derivations.js';
import { parseFieldLayout } from './map-layout.js';
import { parseMetric } from './metric-specs.js';
import type { MapDecl, MapDerivation, MapLayout } from './types.js';
import { DERIVATION_KINDS, MANIFEST_LIMITS } from './types.js';

export function parseMapDecl(value: unknown, path: string): MapDecl {
  const reader = new FieldReader(value, path, {
    optional: [
      'persist',
      'resetOnUpgrade',
      'layout',
      'entries',
      'derive',
      'metrics',
      'events',
      'description',
    ],
  });
  const decl: MapDecl = {};
  if (reader.has('persist')) decl.persist = reader.boolean('persist');
  if (reader.has('resetOnUpgrade')) decl.resetOnUpgrade = reader.boolean('resetOnUpgrade');
  if (reader.has('layout')) {
    const layout = new FieldReader(reader.get('layout'), reader.at('layout'), { required: ['key', 'value'] });
    decl.layout = {
      key: parseFieldLayout(layout.get('key'), layout.at('key')),
      value: parseFieldLayout(layout.get('value'), layout.at('value')),
    };
  }
  if (reader.has('entries')) {
    decl.entries = reader.enumOf('entries', ['policy'] as const);
    if (!decl.layout) {
      throw new ManifestError(
        'MISSING_FIELD',
        reader.at('layout'),
        'required to write entries from the policy',
      );
    }
  }
  if (reader.has('derive')) {
    if (decl.entries) {
      throw new ManifestError(
        'CONFLICT',
        reader.at('derive'),
        'a map is either policy-managed or derived, not both',
      );
    }
    if (!decl.layout)
      throw new ManifestError('MISSING_FIELD', reader.at('layout'), 'required to derive a map');
    const derive = new FieldReader(reader.get('derive'), reader.at('derive'), { required: ['from', 'kind'] });
    const derivation: MapDerivation = {
      from: derive.string('from', IDENTIFIER),
      kind: derive.enumOf('kind', DERIVATION_KINDS),
    };
    decl.derive = derivation;
  }
  if (reader.has('metrics')) {
    const list = expectArray(reader.get('metrics'), reader.at('metrics'), MANIFEST_LIMITS.maxMetricsPerMap);
    const layout = decl.layout;
    if (!layout) throw new ManifestError('MISSING_FIELD', reader.at('layout'), 'required to export metrics');
    decl.metrics = list.map((m, i) => parseMetric(m, joinPath(reader.at('metrics'), i), layout));
  }
  if (reader.has('events')) decl.events = parseEventStream(reader.get('events'), path, decl);
  if (reader.has('description')) decl.description = reader.string('description', DESCRIPTION);
  return decl;
}

export function parseMapsSection(value: unknown, path: string): { [name: string]: MapDecl } {
  const out: { [name: string]: MapDecl } = {};
  const seenMetrics = new Set<string>();
  for (const [name, entry, entryPath] of expectEntries(value, path, MANIFEST_LIMITS.maxMaps, IDENTIFIER)) {
    const decl = parseMapDecl(entry, entryPath);
    decl.metrics?.forEach((metric, i) => {
      if (seenMetrics.has(metric.name)) {
        throw new ManifestError(
          'DUPLICATE',
          `${entryPath}.metrics[${i}].name`,
          `metric ${metric.name} is declared twice`,
        );
      }
      seenMetrics.add(metric.name);
    });
    out[name] = decl;
  }
  for (const [name, decl] of Object.entries(out)) if (decl.derive) checkDerivation(out, name, decl, path);
  checkEventStreams(out, path);
  return out;
}

/** A derived map names a policy-managed map of the same manifest whose layout its derivation reads. */
function checkDerivation(maps: { [name: string]: MapDecl }, name: string, decl: MapDecl, path: string): void {
  const derive = decl.derive as MapDerivation;
  const at = joinPath(joinPath(path, name), 'derive');
  const source = maps[derive.from];
  if (derive.from === name)
    throw new ManifestError('INVALID_VALUE', `${at}.from`, 'a map cannot derive from itself');
  if (!source) {
    throw new ManifestError(
      'UNKNOWN_REFERENCE',
      `${at}.from`,
      `no map ${JSON.stringify(derive.from)} in maps`,
    );
  }
  if (source.entries !== 'policy') {
    throw new ManifestError(
      'NOT_POLICY_MANAGED',
      `${at}.from`,
      `map ${derive.from} is not policy-managed (set "entries": "policy" on it)`,
    );
  }
  const problem = derivationLayoutProblem(derive.kind, source.layout as MapLayout, decl.layout as MapLayout);
  if (problem) {
    const where = problem.side === 'from' ? `${at}.from` : joinPath(joinPath(path, name), 'layout');
    throw new ManifestError('LAYOUT_MISMATCH', where, problem.message);
  }
}
