// Reads the maps a manifest marks as metrics through their pins and decodes them by the declared layout.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openPinnedMap } from '@bpfleet/sdk/bpf';
import { errorMessage } from '@bpfleet/sdk/errors';
import { layoutFields, type MapDecl } from '@bpfleet/sdk/manifest';
import type { Logger } from '../logger.js';
import type { ProgramMetric } from '../ports.js';

export function readMapMetrics(
  deployment: string,
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
        const keyFields = layoutFields(decl.layout.key).fields;
        const valueFields = layoutFields(decl.layout.value).fields;
        for (const [key, raw] of map.entries()) {
          const values = map.perCpu ? splitValues(raw, map.info.valueSize) : [raw];
          for (const metric of decl.metrics) {
            const field = valueFields.find((f) => f.name === (metric.value ?? valueFields[0]?.name));
            if (!field) continue;
            const value = values.reduce((sum, v) => sum + readInt(v, field.offset, field.size), 0);
            const labels = Object.entries(metric.labels ?? {}).map(([label, keyField]) => {
              const f = keyFields.find((k) => k.name === keyField) ?? keyFields[0];
              const n = f ? String(readInt(key, f.offset, f.size)) : '';
              return `${label}=${metric.labelValues?.[label]?.[n] ?? n}`;
            });
            out.push({ deployment, map: name, name: metric.name, key: labels.join(','), value });
          }
        }
      } finally {
        map.close();
      }
    } catch (err) {
      logger.warn('reading metrics failed', { deployment, map: name, error: errorMessage(err) });
    }
  }
  return out;
}

function splitValues(all: Uint8Array, valueSize: number): Uint8Array[] {
  const stride = Math.ceil(valueSize / 8) * 8;
  const out: Uint8Array[] = [];
  for (let off = 0; off + valueSize <= all.length; off += stride)
    out.push(all.subarray(off, off + valueSize));
  return out;
}

function readInt(bytes: Uint8Array, offset: number, size: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (size === 8) return Number(view.getBigUint64(offset, true));
  if (size === 4) return view.getUint32(offset, true);
  if (size === 2) return view.getUint16(offset, true);
  return view.getUint8(offset);
}
