// What applying a policy would change, program by program and map entry by map entry (`bpfleet policy diff`).
import type { Policy, PolicyMapEntry, PolicyProgram } from '../policy/policy.js';

export interface MapChange {
  map: string;
  added: string[];
  removed: string[];
  /** Keys whose value changes, as `key: before → after`. */
  changed: string[];
}

export interface ProgramChange {
  id: string;
  change: 'added' | 'removed' | 'changed';
  before?: string;
  after?: string;
  maps?: MapChange[];
}

export const selectorOf = (p: PolicyProgram) =>
  p.channel !== undefined ? `channel:${p.channel}` : (p.version ?? '*');

const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
const summary = (q: PolicyProgram) =>
  `${q.package}@${selectorOf(q)} ${JSON.stringify(q.attach ?? {})} ${JSON.stringify(q.config ?? {})}`;

function mapChanges(
  before: Record<string, PolicyMapEntry[]> = {},
  after: Record<string, PolicyMapEntry[]> = {},
): MapChange[] {
  const out: MapChange[] = [];
  for (const map of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const old = new Map((before[map] ?? []).map((e) => [text(e.key), text(e.value)]));
    const next = new Map((after[map] ?? []).map((e) => [text(e.key), text(e.value)]));
    const change: MapChange = { map, added: [], removed: [], changed: [] };
    for (const [k, v] of next) {
      const was = old.get(k);
      if (was === undefined) change.added.push(`${k} = ${v}`);
      else if (was !== v) change.changed.push(`${k}: ${was} → ${v}`);
    }
    for (const [k, v] of old) if (!next.has(k)) change.removed.push(`${k} = ${v}`);
    if (change.added.length + change.removed.length + change.changed.length > 0) out.push(change);
  }
  return out;
}

/** Program-level differences between the current policy and a new one, with their map entries. */
export function diffPolicies(current: Policy | null, next: Policy): ProgramChange[] {
  const before = new Map((current?.programs ?? []).map((p) => [p.id, p]));
  const after = new Map(next.programs.map((p) => [p.id, p]));
  const changes: ProgramChange[] = [];
  for (const [id, p] of after) {
    const old = before.get(id);
    const maps = mapChanges(old?.maps, p.maps);
    const withMaps = maps.length ? { maps } : {};
    if (!old) changes.push({ id, change: 'added', after: summary(p), ...withMaps });
    else if (summary(old) !== summary(p) || maps.length)
      changes.push({ id, change: 'changed', before: summary(old), after: summary(p), ...withMaps });
  }
  for (const [id, p] of before) {
    if (!after.has(id)) changes.push({ id, change: 'removed', before: `${p.package}@${selectorOf(p)}` });
  }
  return changes;
}

export function changeLines(changes: ProgramChange[]): string[] {
  return changes.flatMap((c) => {
    const sign = c.change === 'added' ? '+' : c.change === 'removed' ? '-' : '~';
    const head =
      c.change === 'changed' && c.before === c.after
        ? `  ~ ${c.id}: map entries`
        : `  ${sign} ${c.id}: ${c.before ?? ''}${c.before && c.after ? ' → ' : ''}${c.after ?? ''}`;
    return [
      head,
      ...(c.maps ?? []).flatMap((m) => [
        ...m.added.map((e) => `      + ${m.map}[${e}]`),
        ...m.removed.map((e) => `      - ${m.map}[${e}]`),
        ...m.changed.map((e) => `      ~ ${m.map}[${e}]`),
      ]),
    ];
  });
}
