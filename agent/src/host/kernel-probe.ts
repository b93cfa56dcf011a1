// HostProbe over the sdk's probe of this host: every unmet `requires` entry and every program the host cannot run.
import type { PackageContents } from '@bpfleet/sdk/archive';
import {
  type CheckRequiresOptions,
  checkPrograms,
  type HostRequirements,
  loadCollectionSpec,
  type HostProbe as ProbedHost,
  type ProgramSpec,
  type Unmet,
} from '@bpfleet/sdk/bpf';
import type { Manifest } from '@bpfleet/sdk/manifest';
import type { HostProbe, VerifiedPackage } from '../ports.js';

export type CheckRequires = (
  requires: HostRequirements,
  probe: ProbedHost,
  options?: CheckRequiresOptions,
) => ReadonlyArray<Unmet>;

/** The programs of a package's object for `arch` that its manifest lists. */
export type ListPrograms = (pkg: VerifiedPackage, arch: string) => readonly ProgramSpec[];

export const manifestPrograms: ListPrograms = (pkg, arch) => {
  const object = (pkg.contents as PackageContents).object(arch);
  if (!object) return [];
  const listed = new Set((pkg.manifest as Manifest).programs.map((p) => p.name));
  try {
    return loadCollectionSpec(object).programs.filter((p) => listed.has(p.name));
  } catch {
    // An object libbpf cannot open fails at load with libbpf's own words; here only `requires` can answer.
    return [];
  }
};

export class KernelProbe implements HostProbe {
  constructor(
    private readonly host: ProbedHost,
    private readonly check: CheckRequires,
    private readonly programs: ListPrograms = manifestPrograms,
  ) {}

  async missing(pkg: VerifiedPackage): Promise<string[]> {
    const manifest = pkg.manifest as Manifest;
    const programs = this.programs(pkg, String(this.host.arch));
    const types = new Set(programs.map((p) => p.type));
    // Where the object shows a program of a required type, its own route decides: a uprobe needs no kprobes.
    // A kernel without BTF is no obstacle to a package that brings its own (`requires.btf: "core"`).
    const packageBtf = (pkg.contents as Partial<PackageContents>).btf?.(String(this.host.arch)) !== undefined;
    const fromRequires = this.check(manifest.requires as HostRequirements, this.host, { packageBtf }).filter(
      (u) => !(u.kind === 'programType' && types.has(u.required)),
    );
    const lines = [...fromRequires, ...checkPrograms(programs, this.host)].map((u) => u.message);
    return [...new Set(lines)];
  }
}
