// Builds a program folder: per arch its vmlinux.h and object, manifest-versus-code checks, the package's file list.
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { programNamesOf, readElfSections, readHelperCalls, readLicense } from '../elf/index.js';
import { BuildError } from '../errors.js';
import { type ArchBtf, ensureArchBtf } from './arch-btf.js';
import { type BuildIssue, hasErrors } from './build-issue.js';
import { checkDeclarations, type ManifestDeclarations } from './check-object.js';
import { collapseArches } from './collapse-arches.js';
import { type CompiledObject, compileObject } from './compile-object.js';
import { libbpfOpenIssues } from './libbpf-open-check.js';
import { checkLicense } from './license-check.js';
import { readObjectBtf } from './object-btf.js';
import { type ObjectCoreBtf, objectCoreBtf } from './object-core-btf.js';
import { programSetIssues } from './program-set-check.js';
import type { RunTool } from './run-tool.js';
import type { Toolchain } from './toolchain.js';
import { ensureVmlinuxHeader, type VmlinuxHeader } from './vmlinux-header.js';

/** What the build needs from a parsed manifest. */
export interface BuildManifest extends ManifestDeclarations {
  name: string;
  version: string;
  license: string;
  requires: { arches: readonly string[]; btf?: boolean | 'core' };
}

export interface BuildProgramOptions {
  dir: string;
  manifest: BuildManifest;
  /** Arches to build; the manifest's requires.arches by default. */
  arches?: string[];
  /** Where objects and the vmlinux.h cache go; `<dir>/build` by default. */
  buildDir?: string;
  /** A pinned vmlinux.h for every arch instead of the one generated from each arch's BTF fixture. */
  vmlinux?: string;
  /** One kernel BTF for every arch to check relocations against and cut minimized BTF from; each arch's fixture by default. */
  kernelBtf?: string;
  isGplCompatible: (spdx: string) => boolean;
  onProgress?: (message: string) => void;
}

export interface BuildProgramResult {
  name: string;
  version: string;
  ok: boolean;
  /** The first arch's vmlinux.h (a pinned header for later builds). */
  vmlinux: VmlinuxHeader;
  /** Per arch: the BTF it was compiled and checked against, and the vmlinux.h made from it. */
  arches: Record<string, { btf: ArchBtf | { path: string }; vmlinux: VmlinuxHeader }>;
  /** Arches whose files came out byte-identical and ship once, under bpf/any/. */
  any: string[];
  objects: CompiledObject[];
  /** Per object: the types its CO-RE relocations touch, why kernel BTF is needed, the minimized BTF packed. */
  btf: ObjectCoreBtf[];
  issues: BuildIssue[];
  /** Package paths to files on disk: manifest.json, bpf/<arch>/<name>.bpf.o, README.md, LICENSE. */
  files: Record<string, string>;
}

/** The program's C sources: every `*.bpf.c` directly in the folder, in name order. */
export async function findSources(dir: string): Promise<string[]> {
  const entries = await readdir(dir);
  return entries
    .filter((f) => f.endsWith('.bpf.c'))
    .sort()
    .map((f) => join(dir, f));
}

function dedupe(issues: BuildIssue[]): BuildIssue[] {
  const byMessage = new Map<string, BuildIssue>();
  for (const issue of issues) if (!byMessage.has(issue.message)) byMessage.set(issue.message, issue);
  return [...byMessage.values()];
}

export async function buildProgram(
  run: RunTool,
  toolchain: Toolchain,
  options: BuildProgramOptions,
): Promise<BuildProgramResult> {
  const { dir, manifest } = options;
  const label = `build ${manifest.name}@${manifest.version}`;
  const progress = options.onProgress ?? (() => {});
  const buildDir = options.buildDir ?? join(dir, 'build');
  const arches = options.arches ?? [...manifest.requires.arches];
  if (arches.length === 0) throw new BuildError('NO_ARCHES', `${label}: no target arches`);
  const sources = await findSources(dir);
  if (sources.length === 0) throw new BuildError('NO_SOURCES', `${label}: no *.bpf.c file in ${dir}`);

  const objects: CompiledObject[] = [];
  const coreBtf: ObjectCoreBtf[] = [];
  const issues: BuildIssue[] = [];
  const files: Record<string, string> = { 'manifest.json': join(dir, 'manifest.json') };
  const notLoaded = new Set(manifest.programs.filter((p) => p.load === false).map((p) => p.name));
  const perArch: BuildProgramResult['arches'] = {};
  for (const arch of arches) {
    progress(`${arch}: BTF and vmlinux.h`);
    const btf = await ensureArchBtf(arch, buildDir);
    const vmlinux = await ensureVmlinuxHeader(run, toolchain.bpftool, {
      cacheDir: buildDir,
      ...(options.vmlinux ? { pinned: options.vmlinux } : { btfFile: btf.path }),
    });
    perArch[arch] = { btf: options.kernelBtf ? { path: options.kernelBtf } : btf, vmlinux };
    const against = options.kernelBtf
      ? { against: `the kernel BTF ${options.kernelBtf}`, borrowed: false }
      : {
          against: `${btf.fixtureArch}'s kernel BTF (${btf.kernel})`,
          borrowed: btf.fixtureArch !== arch,
        };
    const functions: string[] = [];
    const programs: string[] = [];
    const btfs = [];
    for (const source of sources) {
      const objectName = `${basename(source, '.c')}.o`;
      progress(`${arch}: ${basename(source)}`);
      const object = await compileObject(run, toolchain, {
        source,
        output: join(buildDir, 'bpf', arch, objectName),
        arch,
        includeDirs: [vmlinux.includeDir, dir],
      });
      objects.push(object);
      files[`bpf/${arch}/${objectName}`] = object.path;

      const objectBtf = await readObjectBtf(run, toolchain.bpftool, object.path);
      btfs.push(objectBtf);
      functions.push(...objectBtf.functions);
      const bytes = await readFile(object.path);
      const elf = readElfSections(bytes, object.path);
      programs.push(...programNamesOf(elf, object.path));
      const core = await objectCoreBtf(run, toolchain.bpftool, {
        object: object.path,
        packagePath: `bpf/${arch}/${basename(source, '.bpf.c')}.min.btf`,
        elf,
        btf: objectBtf,
        declared: manifest.requires.btf,
        kernelBtf: options.kernelBtf ?? btf.path,
        against,
      });
      coreBtf.push(core.summary);
      issues.push(...core.issues);
      if (core.summary.packed) files[core.summary.packed] = core.summary.file;
      issues.push(...libbpfOpenIssues(bytes, `bpf/${arch}/${objectName}`, notLoaded));
      issues.push(
        ...checkLicense({
          manifestLicense: manifest.license,
          objectLicense: readLicense(elf),
          helperIds: readHelperCalls(elf),
          isGplCompatible: options.isGplCompatible,
        }),
      );
    }
    // Several sources make one package: check the manifest against their union.
    issues.push(
      ...checkDeclarations(manifest, {
        config: btfs.flatMap((b) => b.config),
        maps: btfs.flatMap((b) => b.maps),
        functions,
      }),
    );
    issues.push(...programSetIssues(manifest, programs, `${label}: bpf/${arch}`));
  }
  for (const extra of ['README.md', 'LICENSE']) {
    const present = await readFile(join(dir, extra)).then(
      () => true,
      () => false,
    );
    if (present) files[extra] = join(dir, extra);
  }
  const all = dedupe(issues);
  // A failed build packs nothing: no files to fold.
  const collapsed = hasErrors(all) ? { files, any: [] } : await collapseArches(files, arches);
  for (const b of coreBtf) {
    const arch = b.packed?.split('/')[1];
    if (b.packed && arch && collapsed.any.includes(arch)) b.packed = b.packed.replace(`/${arch}/`, '/any/');
  }
  return {
    name: manifest.name,
    version: manifest.version,
    ok: !hasErrors(all),
    vmlinux: (perArch[arches[0] as string] as { vmlinux: VmlinuxHeader }).vmlinux,
    arches: perArch,
    any: collapsed.any,
    objects,
    btf: coreBtf,
    issues: all,
    files: collapsed.files,
  };
}
