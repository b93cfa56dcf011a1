// One object's BTF at build: relocations checked against its arch's BTF; minimized BTF cut, classified, packed if "core".
import type { ElfObject } from '../elf/index.js';
import { BpfleetError } from '../errors.js';
import type { BuildIssue } from './build-issue.js';
import { type RelocationCheck, unresolvedRelocationIssues } from './core-relocations.js';
import { btfRequirementIssues, generateMinBtf, kernelBtfNeeds, programSections } from './min-btf.js';
import type { ObjectBtf } from './object-btf.js';
import type { RunTool } from './run-tool.js';
import { STABLE_TYPES } from './stable-types.js';

export interface ObjectCoreBtf {
  object: string;
  /** Named types its CO-RE relocations touch. */
  types: string[];
  /** Why it needs the kernel's own BTF; empty when the minimized BTF fits every kernel. */
  needs: string[];
  /** The minimized BTF on disk and its size (absent when it could not be cut). */
  file: string;
  bytes: number;
  /** Its path in the package, when packed (`requires.btf: "core"`). */
  packed?: string;
}

export async function objectCoreBtf(
  run: RunTool,
  bpftool: string,
  o: {
    object: string;
    packagePath: string;
    elf: ElfObject;
    btf: ObjectBtf;
    declared: boolean | 'core' | undefined;
    /** The target arch's kernel BTF: cut from, and every relocation checked against it. */
    kernelBtf: string;
    against: Omit<RelocationCheck, 'what'>;
  },
): Promise<{ summary: ObjectCoreBtf; issues: BuildIssue[] }> {
  const output = o.object.replace(/\.bpf\.o$/, '.min.btf');
  const what = o.packagePath.replace(/\.min\.btf$/, '.bpf.o');
  let min: Awaited<ReturnType<typeof generateMinBtf>>;
  try {
    min = await generateMinBtf(run, bpftool, {
      kernelBtf: o.kernelBtf,
      object: o.object,
      output,
    });
  } catch (err) {
    // Without a BTF to cut from, only a package that promises to bring its own has a problem.
    const summary = { object: o.object, types: [], needs: ['has no minimized BTF'], file: output, bytes: 0 };
    if (o.declared !== 'core') return { summary, issues: [] };
    const why = err instanceof BpfleetError ? err.message : String(err);
    return { summary, issues: [{ severity: 'error', code: 'MIN_BTF_FAILED', message: `${what}: ${why}` }] };
  }
  const needs = kernelBtfNeeds({
    types: min.types,
    sections: programSections(o.elf),
    ksyms: o.btf.ksyms ?? [],
  });
  const internal = min.types.filter((t) => !STABLE_TYPES.has(t));
  const issues: BuildIssue[] = [
    ...unresolvedRelocationIssues(min.relocations, { what, ...o.against }),
    ...(o.against.borrowed && internal.length > 0
      ? [
          {
            severity: 'warning' as const,
            code: 'ARCH_BTF_BORROWED',
            message: `${what}: the SDK carries no BTF for this arch: compiled and checked against ${o.against.against}, so its kernel-internal types (${internal.join(', ')}) may have other layouts on the device`,
          },
        ]
      : []),
    ...btfRequirementIssues(o.declared, { types: min.types, needs }, what),
  ];
  const packed = o.declared === 'core' && needs.length === 0 ? o.packagePath : undefined;
  return {
    summary: {
      object: o.object,
      types: min.types,
      needs,
      file: min.path,
      bytes: min.bytes,
      ...(packed && { packed }),
    },
    issues,
  };
}
