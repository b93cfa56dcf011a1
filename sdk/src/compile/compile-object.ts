// Compiles one BPF C file for one target arch with clang, then strips DWARF while keeping .BTF and .BTF.ext.
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BuildError } from '../errors.js';
import type { RunTool } from './run-tool.js';
import type { Toolchain } from './toolchain.js';

/** Manifest arch names to the kernel's __TARGET_ARCH_ names used by bpf_tracing.h. */
export const TARGET_ARCHES: Readonly<Record<string, string>> = {
  x86: 'x86',
  arm64: 'arm64',
  arm: 'arm',
  riscv: 'riscv',
  s390: 's390',
  powerpc: 'powerpc',
  mips: 'mips',
  loongarch: 'loongarch',
};

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
  const target = TARGET_ARCHES[options.arch];
  if (!target) {
    throw new BuildError(
      'UNKNOWN_ARCH',
      `compile ${options.source}: unknown arch "${options.arch}" (known: ${Object.keys(TARGET_ARCHES).join(', ')})`,
    );
  }
  return [
    '-g',
    '-O2',
    '-target',
    'bpf',
    `-D__TARGET_ARCH_${target}`,
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
