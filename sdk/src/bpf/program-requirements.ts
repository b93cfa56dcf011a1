// checkPrograms: what each program of an object needs from the host, by the route its SEC() name attaches through.
import type { ProgramSpec } from './collection-spec.js';
import type { HostProbe } from './probe.js';
import { type Unmet, unknown } from './requirements.js';

/** The probed route a program takes: `kprobe`/`uprobe` for kprobe-type programs, else libbpf's attach type. */
function route(p: ProgramSpec): string | null {
  if (p.type === 'kprobe') return p.attach === 'uprobe' ? 'uprobe' : 'kprobe';
  return p.attachType;
}

/**
 * Every program the host cannot run, one `Unmet` each, reading after "host lacks ". More precise than the
 * manifest's `programTypes`: a `tracing` program may be tp_btf (loads here) or fentry (refused here), and a
 * `kprobe` program may be a uprobe, which attaches where kprobes do not.
 */
export function checkPrograms(programs: readonly ProgramSpec[], probe: HostProbe): Unmet[] {
  const out: Unmet[] = [];
  for (const p of programs) {
    const need = route(p);
    const refused = need ? probe.supports('attachType', need) : undefined;
    if (refused === true) continue;
    if (need && refused) {
      out.push({
        kind: 'attachType',
        required: need,
        found: 'absent',
        message: `attach type ${need} for program ${p.name} (${refused})`,
      });
      continue;
    }
    const type = probe.supports('programType', p.type);
    if (type !== true) {
      const reason = type ?? unknown(probe);
      out.push({
        kind: 'programType',
        required: p.type,
        found: 'absent',
        message: `program type ${p.type} for program ${p.name} (${reason})`,
      });
    }
  }
  return out;
}
