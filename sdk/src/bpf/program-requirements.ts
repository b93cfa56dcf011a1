// checkPrograms: what each program of an object needs from the host, by the route its SEC() name attaches through.
import type { ProgramSpec } from './collection-spec.js';
import type { HostProbe } from './probe.js';
import type { Unmet } from './requirements.js';

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
    if (need && probe.attachTypes.includes(need)) continue;
    const refused = need ? probe.unsupported.attachTypes[need] : undefined;
    if (need && refused) {
      out.push({
        kind: 'attachType',
        required: need,
        found: 'absent',
        message: `attach type ${need} for program ${p.name} (${refused})`,
      });
    } else if (!probe.programTypes.includes(p.type)) {
      const reason = probe.unsupported.programTypes[p.type] ?? `unknown to libbpf ${probe.libbpf}`;
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
