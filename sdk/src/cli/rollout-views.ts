// Text views of rollouts for `bpfleet rollout`: one rollout with its waves and devices, the list, id prefixes.
import { formatDuration } from '../duration.js';
import { ConfigError } from '../errors.js';
import type { FleetClient, RolloutView } from '../registry-client/fleet-client.js';
import { renderTable } from './table.js';

/** Above this many devices the per-device table lists only those with something to say. */
const ALL_DEVICES_UP_TO = 50;

function counts(r: RolloutView, devices: string[]): string {
  const by: Record<string, number> = {};
  for (const d of devices) {
    const s = r.devices[d]?.status ?? '?';
    by[s] = (by[s] ?? 0) + 1;
  }
  return Object.entries(by)
    .map(([s, n]) => `${s} ${n}`)
    .join(', ');
}

export function rolloutText(r: RolloutView, options: { width?: number; allDevices?: boolean } = {}): string {
  const waveOf = new Map<string, number>();
  r.waves.forEach((w, i) => {
    for (const d of w.devices) waveOf.set(d, i + 1);
  });
  const ids = Object.keys(r.devices).sort(
    (a, b) => (waveOf.get(a) ?? 0) - (waveOf.get(b) ?? 0) || a.localeCompare(b),
  );
  const listAll = options.allDevices || ids.length <= ALL_DEVICES_UP_TO;
  const shown = listAll ? ids : ids.filter((id) => r.devices[id]?.detail);
  const pending = r.pending?.length ? ` — still applying: ${r.pending.map((a) => a.kind).join(', ')}` : '';
  return [
    ...(r.warnings ?? []).map((w) => `warning: ${w}`),
    `rollout ${r.id}: ${r.spec.package}@${r.spec.version} to group ${r.spec.group} (wave timeout ${formatDuration(r.spec.waveTimeoutMs)}): ${r.state}${r.reason ? ` (${r.reason})` : ''}${pending}`,
    ...r.waves.map(
      (w, i) =>
        `  wave ${i + 1}${i === r.currentWave ? '*' : ' '} ${String(w.devices.length).padStart(5)} device(s): ${counts(r, w.devices)}`,
    ),
    ...(shown.length
      ? [
          '',
          listAll
            ? 'devices:'
            : `devices with a detail (${shown.length} of ${ids.length}; --devices for all):`,
          renderTable(
            ['DEVICE', 'WAVE', 'STATUS', 'DETAIL'],
            shown.map((id) => [
              id,
              String(waveOf.get(id) ?? '-'),
              r.devices[id]!.status,
              r.devices[id]!.detail ?? '',
            ]),
            options.width === undefined ? {} : { width: options.width },
          ),
        ]
      : []),
  ].join('\n');
}

/** Newest first, one line each. */
export function rolloutListText(all: RolloutView[], width?: number): string {
  if (all.length === 0) return '(no rollouts)';
  const newest = [...all].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return renderTable(
    ['ID', 'STATE', 'PACKAGE', 'GROUP', 'WAVE', 'SUCCEEDED', 'CREATED', 'REASON'],
    newest.map((r) => {
      const ids = Object.keys(r.devices);
      const ok = ids.filter((d) => r.devices[d]?.status === 'SUCCEEDED').length;
      return [
        r.id.slice(0, 8),
        r.state,
        `${r.spec.package}@${r.spec.version}`,
        r.spec.group,
        `${r.currentWave + 1}/${r.waves.length}`,
        `${ok}/${ids.length}`,
        r.createdAt.replace(/\.\d+Z$/, 'Z'),
        r.reason ?? '',
      ];
    }),
    width === undefined ? {} : { width },
  );
}

/** A whole id, or a prefix of exactly one rollout's id (as `rollout status` lists them). */
export async function resolveRolloutId(client: FleetClient, given: string): Promise<string> {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(given)) return given;
  const matches = (await client.listRollouts()).filter((r) => r.id.startsWith(given));
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length === 0)
    throw new ConfigError(
      'ROLLOUT_NOT_FOUND',
      `rollout ${given}: no rollout id starts with it (bpfleet rollout status lists them)`,
    );
  throw new ConfigError(
    'ROLLOUT_AMBIGUOUS',
    `rollout ${given}: matches ${matches.length} rollouts (${matches.map((r) => r.id.slice(0, 12)).join(', ')}); give more characters`,
  );
}
