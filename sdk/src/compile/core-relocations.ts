// An object's CO-RE relocations as libbpf resolved them against a target arch's BTF (bpftool -d gen min_core_btf).
import type { BuildIssue } from './build-issue.js';

export interface CoreRelocation {
  /** The program's section, as libbpf names it in its log (`kprobe/do_unlinkat`). */
  program: string;
  index: number;
  /** libbpf's relocation kind: byte_off, byte_sz, field_exists, type_exists, enumval_value, … */
  kind: string;
  /** What it relocates, in libbpf's words: `struct task_struct.pid`, `enum bpf_func_id::BPF_FUNC_x`. */
  target: string;
  resolved: boolean;
}

// prog 'kprobe/x': relo #1: <byte_off> [21] struct filename.name (0:0 @ offset 0)
const SPEC = /prog '([^']+)': relo #(\d+): <([a-z0-9_]+)> \[\d+\] (.+?) \([0-9:]+(?: @ offset \d+)?\)$/;
const UNRESOLVED = /prog '([^']+)': relo #(\d+): (?:no matching targets found|.*\bfail)/;

/** Relocations from libbpf's debug log; one marked unresolved when libbpf found no target for it. */
export function parseCoreRelocations(log: string): CoreRelocation[] {
  const byKey = new Map<string, CoreRelocation>();
  for (const raw of log.split('\n')) {
    const line = raw.replace(/^libbpf: /, '').trim();
    const spec = SPEC.exec(line);
    if (spec) {
      const [, program, index, kind, target] = spec as unknown as [string, string, string, string, string];
      byKey.set(`${program}#${index}`, { program, index: Number(index), kind, target, resolved: true });
      continue;
    }
    const failed = UNRESOLVED.exec(line);
    const relo = failed && byKey.get(`${failed[1]}#${failed[2]}`);
    if (relo) relo.resolved = false;
  }
  return [...byKey.values()];
}

/** Kinds whose answer on a kernel without the thing is a valid 0: the program asks, it does not read. */
const QUESTION_KINDS = new Set(['field_exists', 'type_exists', 'type_matches', 'enumval_exists']);

/** `struct task_struct___v2.pid` → `struct task_struct.pid`: libbpf matches flavours by their base name. */
function base(target: string): string {
  return target.replace(/___[A-Za-z0-9_]+/g, '');
}

export interface RelocationCheck {
  /** The object's path in the package (`bpf/arm64/x.bpf.o`). */
  what: string;
  /** Whose BTF it was checked against, for the message: `arm64's kernel BTF (6.1.0-57-arm64)`. */
  against: string;
  /** True when the BTF is not the target arch's own: a miss is then a warning, not proof. */
  borrowed: boolean;
}

/**
 * A relocation the arch's BTF cannot satisfy is an error: the device's libbpf would poison the instruction and the
 * verifier refuse the program. Not when the program guards it with an existence check on the same field or type.
 */
export function unresolvedRelocationIssues(
  relos: readonly CoreRelocation[],
  check: RelocationCheck,
): BuildIssue[] {
  const asked = new Set(relos.filter((r) => QUESTION_KINDS.has(r.kind)).map((r) => base(r.target)));
  const issues: BuildIssue[] = [];
  for (const r of relos) {
    if (r.resolved || QUESTION_KINDS.has(r.kind)) continue;
    const guarded = asked.has(base(r.target)) || asked.has(base(r.target).replace(/\.[^.]*$/, ''));
    const severity = guarded || check.borrowed ? 'warning' : 'error';
    const why = guarded
      ? ' (guarded by an existence check, so it is dead code there)'
      : check.borrowed
        ? ' (not this arch’s own BTF: check it on the device)'
        : ': the type or field does not exist there, so the device would refuse the program';
    issues.push({
      severity,
      code: 'CORE_RELO_UNRESOLVED',
      message: `${check.what}: CO-RE relocation #${r.index} in ${r.program} (${r.kind} of ${r.target}) has no match in ${check.against}${why}`,
    });
  }
  return issues;
}
