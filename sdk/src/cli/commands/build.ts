// `bpfleet build [dir]`: compile for every arch, check the manifest against the code, report sizes and issues.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { packArchive, packageFileName } from '../../archive/index.js';
import { type BuildProgramResult, buildProgram } from '../../compile/build-program.js';
import { runTool } from '../../compile/run-tool.js';
import { findToolchain } from '../../compile/toolchain.js';
import { sha256Digest } from '../../digest.js';
import { BuildError, ConfigError } from '../../errors.js';
import { assertMetricConventions, isGplCompatible, parseManifest } from '../../manifest/index.js';
import { createProgress, EXIT_FAILURE, endProgress, printResult } from '../output.js';

interface BuildOptions {
  arch?: string;
  vmlinux?: string;
  kernelBtf?: string;
  buildDir?: string;
  pack: boolean;
  json?: boolean;
}

interface PackageInfo {
  file: string;
  digest: string;
  size: number;
}

/** The package from the build's files, written beside the objects (temp file, then rename). */
async function pack(result: BuildProgramResult, buildDir: string): Promise<PackageInfo> {
  const files = await Promise.all(
    Object.entries(result.files).map(async ([path, file]) => ({ path, data: await readFile(file) })),
  );
  const bytes = await packArchive(files);
  const file = join(buildDir, packageFileName(result));
  await writeFile(`${file}.tmp`, bytes);
  await rename(`${file}.tmp`, file);
  return { file, digest: sha256Digest(bytes), size: bytes.length };
}

/** A path relative to the working directory when it is below it, else absolute. */
function show(path: string): string {
  const r = relative(process.cwd(), path);
  return r.startsWith('..') ? path : r;
}

function human(result: BuildProgramResult, pkg: PackageInfo | undefined): string {
  const lines = [`${result.name}@${result.version}: ${result.ok ? 'built' : 'FAILED'}`];
  for (const [arch, { btf, vmlinux }] of Object.entries(result.arches)) {
    const from = 'kernel' in btf ? `${btf.fixtureArch} fixture, kernel ${btf.kernel}` : btf.path;
    lines.push(`  ${arch}: vmlinux.h ${vmlinux.source} from BTF ${vmlinux.sha256.slice(0, 12)}… (${from})`);
  }
  if (result.any.length > 0) {
    lines.push(`  bpf/any: ${result.any.join(', ')} built byte-identical files: the package holds them once`);
  }
  for (const o of result.objects) {
    const saved = Math.round((1 - o.bytes / o.unstrippedBytes) * 100);
    lines.push(`  ${show(o.path)}: ${o.bytes} bytes (${o.unstrippedBytes} with DWARF, ${saved}% stripped)`);
  }
  for (const b of result.btf) {
    const where = b.packed
      ? `packed as ${b.packed}`
      : b.needs.length > 0
        ? `kernel BTF needed: ${b.needs.join('; ')}`
        : 'not packed';
    lines.push(
      `  min BTF of ${show(b.object)}: ${b.bytes} bytes (${b.types.join(', ') || 'no CO-RE types'}), ${where}`,
    );
  }
  for (const i of result.issues) lines.push(`  ${i.severity}: ${i.message} [${i.code}]`);
  if (pkg) lines.push(`  package: ${show(pkg.file)} (${pkg.size} bytes, ${pkg.digest})`);
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('build')
    .description('Compile a program folder for each target arch and check its manifest against the code')
    .argument('[dir]', 'program folder with manifest.json and *.bpf.c', '.')
    .option('--arch <arches>', 'comma-separated arches (default: the manifest requires.arches)')
    .option(
      '--vmlinux <file>',
      "a pinned vmlinux.h for every arch instead of the one from each arch's BTF fixture (sdk/btf-fixtures)",
    )
    .option(
      '--kernel-btf <file>',
      "one kernel BTF for every arch to check CO-RE relocations against and cut minimized BTF from (default: each arch's fixture)",
    )
    .option('--build-dir <dir>', 'output and cache folder (default: <dir>/build)')
    .option('--no-pack', 'compile and check only; do not write the package')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Each arch compiles against its own vmlinux.h (from the BTF the SDK carries for it, not this machine's kernel)
with its byte order (bpfel/bpfeb) and pt_regs; each CO-RE relocation must resolve in that arch's BTF.
Arches whose files come out byte-identical ship once, under bpf/any/.

Examples:
  bpfleet build                                  # the folder here, every arch in requires.arches
  bpfleet build bpf-programs/tcp-rtt --arch arm64 --no-pack
  bpfleet build . --json | jq '.issues'          # exit 1 when an issue is an error`,
    )
    .action(async (dirArg: string, options: BuildOptions) => {
      const dir = resolve(dirArg);
      const manifestPath = join(dir, 'manifest.json');
      const text = await readFile(manifestPath, 'utf8').catch((err: unknown) => {
        throw new ConfigError('NO_MANIFEST', `build ${dir}: cannot read manifest.json`, { cause: err });
      });
      const manifest = parseManifest(text);
      // Older packages still parse; a new build must name its metrics as Prometheus expects.
      assertMetricConventions(manifest.maps, manifest.globals);
      const progress = createProgress(options);
      const toolchain = await findToolchain(runTool);
      let result: BuildProgramResult;
      try {
        result = await buildProgram(runTool, toolchain, {
          dir,
          manifest,
          ...(options.arch ? { arches: options.arch.split(',') } : {}),
          ...(options.buildDir ? { buildDir: resolve(options.buildDir) } : {}),
          ...(options.vmlinux ? { vmlinux: resolve(options.vmlinux) } : {}),
          ...(options.kernelBtf ? { kernelBtf: resolve(options.kernelBtf) } : {}),
          isGplCompatible,
          onProgress: (m) => progress(`build ${manifest.name}: ${m}`),
        });
      } catch (err) {
        endProgress(options);
        // clang's own diagnostics, unchanged: file:line:col, caret and all.
        if (err instanceof BuildError && err.output) process.stderr.write(err.output);
        throw err;
      }
      endProgress(options);
      for (const o of result.objects) if (o.warnings) process.stderr.write(o.warnings);
      const buildDir = options.buildDir ? resolve(options.buildDir) : join(dir, 'build');
      const pkg = result.ok && options.pack ? await pack(result, buildDir) : undefined;
      printResult(options, { ...result, package: pkg ?? null }, () => human(result, pkg));
      if (!result.ok) process.exitCode = EXIT_FAILURE;
    });
}
