// Reads the maps a manifest marks as metrics through their pins; metrics/map-samples.ts decodes them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openPinnedMap } from '@bpfleet/sdk/bpf';
import { errorMessage } from '@bpfleet/sdk/errors';
import { layoutSize, type MapDecl, splitPerCpu } from '@bpfleet/sdk/manifest';
import type { Logger } from '../logger.js';
import { type MapEntry, type MetricOwner, mapSamples } from '../metrics/map-samples.js';
import type { ProgramMetric } from '../ports.js';

export function readMapMetrics(
  owner: MetricOwner,
  dir: string,
  maps: Record<string, MapDecl>,
  logger: Logger,
): ProgramMetric[] {
  const out: ProgramMetric[] = [];
  for (const [name, decl] of Object.entries(maps)) {
    if (!decl.metrics?.length || !decl.layout) continue;
    const path = join(dir, name);
    if (!existsSync(path)) continue;
    try {
      const map = openPinnedMap(path);
      try {
        const size = map.info.valueSize;
        if (size !== layoutSize(decl.layout.value)) {
          const why = `the map's values are ${size} bytes, the manifest's layout ${layoutSize(decl.layout.value)}`;
          logger.warn('reading metrics failed', { deployment: owner.deployment, map: name, error: why });
          continue;
        }
        const entries: MapEntry[] = [];
        for (const [key, raw] of map.entries())
          entries.push({ key, values: map.perCpu ? splitPerCpu(raw, size) : [raw] });
        out.push(...mapSamples(owner, name, decl, entries));
      } finally {
        map.close();
      }
    } catch (err) {
      logger.warn('reading metrics failed', {
        deployment: owner.deployment,
        map: name,
        error: errorMessage(err),
      });
    }
  }
  return out;
}
