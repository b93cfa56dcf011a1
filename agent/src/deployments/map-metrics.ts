// Reads the maps a manifest marks as metrics through their pins; metrics/map-samples.ts decodes them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openPinnedMap, readDataSection } from '@bpfleet/sdk/bpf';
import { errorMessage } from '@bpfleet/sdk/errors';
import { type GlobalsDecl, layoutSize, type MapDecl, splitPerCpu } from '@bpfleet/sdk/manifest';
import type { Logger } from '../logger.js';
import { globalSamples } from '../metrics/global-samples.js';
import { type MapEntry, type MetricOwner, mapSamples } from '../metrics/map-samples.js';
import type { ProgramMetric } from '../ports.js';

export function readMapMetrics(
  owner: MetricOwner,
  dir: string,
  maps: Record<string, MapDecl>,
  logger: Logger,
  globals?: GlobalsDecl,
): ProgramMetric[] {
  const out: ProgramMetric[] = globals ? readGlobalMetrics(owner, dir, globals, logger) : [];
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

/** Globals from the `.bss`/`.data` maps (pinned as `__bss`/`__data`), each variable at the offset its BTF gives. */
function readGlobalMetrics(
  owner: MetricOwner,
  dir: string,
  decl: GlobalsDecl,
  logger: Logger,
): ProgramMetric[] {
  const vars = new Map<string, Uint8Array>();
  for (const section of ['.bss', '.data']) {
    const path = join(dir, `__${section.slice(1)}`);
    if (!existsSync(path)) continue;
    try {
      const map = openPinnedMap(path);
      try {
        for (const [name, bytes] of readDataSection(map, section)) vars.set(name, bytes);
      } finally {
        map.close();
      }
    } catch (err) {
      logger.warn('reading globals failed', {
        deployment: owner.deployment,
        section,
        error: errorMessage(err),
      });
    }
  }
  const { samples, problems } = globalSamples(owner, decl, vars);
  for (const problem of problems)
    logger.warn('reading globals failed', { deployment: owner.deployment, error: problem });
  return samples;
}
