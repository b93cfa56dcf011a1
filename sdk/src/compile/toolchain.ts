// Finds clang, llvm-strip and bpftool and checks their versions before any build starts.
import { BuildError } from '../errors.js';
import type { RunTool } from './run-tool.js';

export const MIN_CLANG_MAJOR = 14;

export interface Toolchain {
  clang: string;
  clangVersion: string;
  strip: string;
  bpftool: string;
}

export interface ToolchainOptions {
  clang?: string;
  strip?: string;
  bpftool?: string;
}

/** Reads `clang version X.Y.Z` from `clang --version` output (Debian, Ubuntu, Apple and upstream forms). */
export function parseClangVersion(output: string): string | undefined {
  return /clang version (\d+\.\d+(?:\.\d+)?)/.exec(output)?.[1];
}

async function probe(run: RunTool, command: string, args: string[], what: string) {
  try {
    return await run(command, args);
  } catch (err) {
    throw new BuildError(
      'TOOL_MISSING',
      `toolchain: ${what} not found (${command}): install it (apt-get install clang llvm bpftool)`,
      {
        cause: err,
      },
    );
  }
}

export async function findToolchain(run: RunTool, options: ToolchainOptions = {}): Promise<Toolchain> {
  const clang = options.clang ?? process.env.BPFLEET_CLANG ?? 'clang';
  const strip = options.strip ?? 'llvm-strip';
  const bpftool = options.bpftool ?? 'bpftool';

  const clangOut = await probe(run, clang, ['--version'], 'clang');
  const clangVersion = parseClangVersion(clangOut.stdout);
  if (!clangVersion) throw new BuildError('TOOL_MISSING', `toolchain: cannot read the version of ${clang}`);
  const major = Number(clangVersion.split('.')[0]);
  if (major < MIN_CLANG_MAJOR) {
    throw new BuildError(
      'TOOL_TOO_OLD',
      `toolchain: clang ${clangVersion} is too old: bpfleet needs clang ${MIN_CLANG_MAJOR} or newer for BPF CO-RE`,
    );
  }
  const stripOut = await probe(run, strip, ['--version'], 'llvm-strip');
  if (stripOut.code !== 0) throw new BuildError('TOOL_MISSING', `toolchain: ${strip} --version failed`);
  const bpftoolOut = await probe(run, bpftool, ['version'], 'bpftool');
  if (bpftoolOut.code !== 0) throw new BuildError('TOOL_MISSING', `toolchain: ${bpftool} version failed`);
  return { clang, clangVersion, strip, bpftool };
}
