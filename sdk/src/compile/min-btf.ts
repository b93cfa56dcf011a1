// A package's minimized BTF: `bpftool gen min_core_btf` keeps only the types an object's CO-RE relocations touch.
import { readFile } from 'node:fs/promises';
import type { ElfObject } from '../elf/index.js';
import { BuildError } from '../errors.js';
import type { BuildIssue } from './build-issue.js';
import { type CoreRelocation, parseCoreRelocations } from './core-relocations.js';
import type { RunTool } from './run-tool.js';
import { KERNEL_BTF_SECTIONS, STABLE_TYPES } from './stable-types.js';

export interface MinBtf {
  path: string;
  bytes: number;
  /** The named structs, unions and enums the object's CO-RE relocations touch. */
  types: string[];
  /** Each CO-RE relocation and whether the kernel BTF resolved it. */
  relocations: CoreRelocation[];
}

/** What decides whether the minimized BTF fits every kernel. */
export interface CoreBtfFacts {
  types: readonly string[];
  /** The object's program section names (`xdp`, `tp_btf/sched_switch`, …). */
  sections: readonly string[];
  ksyms: readonly string[];
}

const SHF_EXECINSTR = 0x4n;

export function programSections(elf: ElfObject): string[] {
  return elf.sections
    .filter((s) => s.name !== '.text' && (s.flags & SHF_EXECINSTR) !== 0n)
    .map((s) => s.name);
}

/**
 * Why the kernel's own BTF is needed, one reason each; empty when the minimized BTF suffices on any kernel: every
 * type relocated is a BPF UAPI or wire-format type (STABLE_TYPES), no program type attaches by kernel BTF id, and no
 * kernel symbol (ksym, kfunc) is resolved.
 */
export function kernelBtfNeeds(facts: CoreBtfFacts): string[] {
  const reasons: string[] = [];
  const internal = facts.types.filter((t) => !STABLE_TYPES.has(t));
  if (internal.length > 0) reasons.push(`relocates kernel-internal types (${internal.join(', ')})`);
  const sections = facts.sections.filter((s) => KERNEL_BTF_SECTIONS.some((p) => s.startsWith(p)));
  if (sections.length > 0) reasons.push(`has programs that attach by kernel BTF id (${sections.join(', ')})`);
  if (facts.ksyms.length > 0) reasons.push(`resolves kernel symbols (${facts.ksyms.join(', ')})`);
  return reasons;
}

export async function generateMinBtf(
  run: RunTool,
  bpftool: string,
  options: { kernelBtf: string; object: string; output: string },
): Promise<MinBtf> {
  // -d: libbpf's log is the only place that says which relocation found no target (the exit code stays 0).
  const gen = await run(bpftool, [
    '-d',
    'gen',
    'min_core_btf',
    options.kernelBtf,
    options.output,
    options.object,
  ]);
  if (gen.code !== 0) {
    throw new BuildError(
      'MIN_BTF_FAILED',
      `minimized BTF of ${options.object}: bpftool gen min_core_btf failed`,
      {
        output: gen.stderr,
      },
    );
  }
  const dump = await run(bpftool, ['-j', 'btf', 'dump', 'file', options.output]);
  if (dump.code !== 0) {
    throw new BuildError('MIN_BTF_FAILED', `minimized BTF of ${options.object}: unreadable`, {
      output: dump.stderr,
    });
  }
  const { types } = JSON.parse(dump.stdout) as { types: Array<{ kind: string; name?: string }> };
  const named = types
    .filter(
      (t) => ['STRUCT', 'UNION', 'ENUM', 'ENUM64', 'FWD'].includes(t.kind) && t.name && t.name !== '(anon)',
    )
    .map((t) => t.name as string);
  return {
    path: options.output,
    bytes: (await readFile(options.output)).length,
    types: [...new Set(named)],
    relocations: parseCoreRelocations(gen.stderr),
  };
}

/** The manifest's `requires.btf` against what the object needs: `core` must fit any kernel; `true` could be `core`. */
export function btfRequirementIssues(
  declared: boolean | 'core' | undefined,
  facts: { types: readonly string[]; needs: readonly string[] },
  what: string,
): BuildIssue[] {
  const { needs } = facts;
  if (declared === 'core' && needs.length > 0) {
    return [
      {
        severity: 'error',
        code: 'BTF_CORE_NOT_PORTABLE',
        message: `${what}: requires.btf is "core" but the object ${needs.join('; ')}: its BTF fits only this kernel (say btf: true)`,
      },
    ];
  }
  // Without CO-RE relocations libbpf needs no BTF at all: nothing to suggest.
  if (declared !== 'core' && needs.length === 0 && facts.types.length > 0) {
    return [
      {
        severity: 'warning',
        code: 'BTF_CORE_POSSIBLE',
        message: `${what}: relocates only stable UAPI types: requires.btf "core" would ship its minimized BTF and run on kernels without BTF`,
      },
    ];
  }
  return [];
}
