// Compiles one BPF C file for one arch (its byte order, its pt_regs) with clang, then strips DWARF but keeps BTF.
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BuildError } from '../errors.js';
import { ARCH_TARGETS, archTarget } from './arch-table.js';
import type { RunTool } from './run-tool.js';
import type { Toolchain } from './toolchain.js';

export interface CompileObjectOptions {
  source: string;
  output: string;
  arch: string;
  includeDirs: string[];
  /** Extra clang flags (-D…), after the standard ones. */
  cflags?: string[];
}

export interface CompiledObject {
  arch: string;
  path: string;
  /** Size with DWARF, as clang wrote it. */
  unstrippedBytes: number;
  /** Size shipped: BTF kept, DWARF gone. */
  bytes: number;
  /** clang's warnings, as printed. */
  warnings: string;
}

export function clangArgs(options: CompileObjectOptions): string[] {
  const target = archTarget(options.arch);
  if (!target) {
    throw new BuildError(
      'UNKNOWN_ARCH',
      `compile ${options.source}: unknown arch "${options.arch}" (known: ${Object.keys(ARCH_TARGETS).join(', ')})`,
    );
  }
  return [
    '-g',
    '-O2',
    '-target',
    target.clangTarget,
    `-D__TARGET_ARCH_${target.tracingArch}`,
    '-Wall',
    ...options.includeDirs.flatMap((dir) => ['-I', dir]),
    ...(options.cflags ?? []),
    '-c',
    options.source,
    '-o',
    options.output,
  ];
}

export async function compileObject(
  run: RunTool,
  toolchain: Toolchain,
  options: CompileObjectOptions,
): Promise<CompiledObject> {
  await mkdir(dirname(options.output), { recursive: true });
  const compiled = await run(toolchain.clang, clangArgs(options));
  if (compiled.code !== 0) {
    throw new BuildError('COMPILE_FAILED', `compile ${options.source} for ${options.arch}: clang failed`, {
      output: compiled.stderr,
    });
  }
  const unstrippedBytes = (await stat(options.output)).size;
  // -g drops the .debug_* (DWARF) sections only: .BTF and .BTF.ext, which CO-RE needs on the device, stay.
  const stripped = await run(toolchain.strip, ['-g', options.output]);
  if (stripped.code !== 0) {
    throw new BuildError('STRIP_FAILED', `strip ${options.output}: ${toolchain.strip} failed`, {
      output: stripped.stderr,
    });
  }
  const bytes = (await stat(options.output)).size;
  return { arch: options.arch, path: options.output, unstrippedBytes, bytes, warnings: compiled.stderr };
}
