// Metrics over a program's globals: the variables' bytes (by their BTF offsets) assembled into the manifest's struct.
import { type GlobalsDecl, globalsLayout, layoutFields, layoutSize } from '@bpfleet/sdk/manifest';
import type { ProgramMetric } from '../ports.js';
import { type MetricOwner, mapSamples } from './map-samples.js';

/**
 * `vars`: every global of the data sections with its current bytes. A variable the manifest names but the object
 * lacks, or whose size differs from its layout, is a problem (returned, its metrics left out), never a guess.
 */
export function globalSamples(
  owner: MetricOwner,
  decl: GlobalsDecl,
  vars: ReadonlyMap<string, Uint8Array>,
): { samples: ProgramMetric[]; problems: string[] } {
  const layout = globalsLayout(decl);
  const value = new Uint8Array(layoutSize(layout.value));
  const problems: string[] = [];
  for (const field of layoutFields(layout.value).fields) {
    const bytes = vars.get(field.name);
    if (!bytes) problems.push(`global ${field.name}: not in the object's .bss or .data`);
    else if (bytes.length !== field.size)
      problems.push(
        `global ${field.name}: ${bytes.length} bytes in the object, ${field.size} in the manifest`,
      );
    else value.set(bytes, field.offset);
  }
  if (problems.length > 0) return { samples: [], problems };
  const entry = { key: new Uint8Array(4), values: [value] };
  return { samples: mapSamples(owner, 'globals', { layout, metrics: decl.metrics }, [entry]), problems };
}
