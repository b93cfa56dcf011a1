// vmlinux.h for CO-RE builds: generated from a kernel's BTF once and cached by the BTF's sha256, or a pinned copy.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from '../errors.js';
import type { RunTool } from './run-tool.js';

export const KERNEL_BTF = '/sys/kernel/btf/vmlinux';

export interface VmlinuxHeaderOptions {
  cacheDir: string;
  /** A vmlinux.h to use as is (reproducible builds on machines without BTF). */
  pinned?: string;
  /** The BTF to generate from; the running kernel's by default. */
  btfFile?: string;
}

export interface VmlinuxHeader {
  /** Directory to pass with -I: it holds `vmlinux.h`. */
  includeDir: string;
  path: string;
  /** sha256 of the BTF (or of the pinned header) the header comes from. */
  sha256: string;
  source: 'pinned' | 'cache' | 'generated';
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export async function ensureVmlinuxHeader(
  run: RunTool,
  bpftool: string,
  options: VmlinuxHeaderOptions,
): Promise<VmlinuxHeader> {
  const sourceFile = options.pinned ?? options.btfFile ?? KERNEL_BTF;
  let bytes: Buffer;
  try {
    bytes = await readFile(sourceFile);
  } catch (err) {
    throw new BuildError(
      'NO_KERNEL_BTF',
      options.pinned
        ? `vmlinux.h: cannot read the pinned header ${sourceFile}`
        : `vmlinux.h: cannot read kernel BTF at ${sourceFile}: pass a pinned vmlinux.h with --vmlinux`,
      { cause: err },
    );
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const includeDir = join(options.cacheDir, 'vmlinux', `${options.pinned ? 'pinned-' : ''}${sha256}`);
  const path = join(includeDir, 'vmlinux.h');
  if (await exists(path)) return { includeDir, path, sha256, source: options.pinned ? 'pinned' : 'cache' };

  await mkdir(includeDir, { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  try {
    if (options.pinned) {
      await writeFile(temp, bytes);
    } else {
      const result = await run(bpftool, ['btf', 'dump', 'file', sourceFile, 'format', 'c'], {
        stdoutFile: temp,
      });
      if (result.code !== 0) {
        throw new BuildError('VMLINUX_FAILED', `vmlinux.h: bpftool btf dump of ${sourceFile} failed`, {
          output: result.stderr,
        });
      }
    }
    await rename(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
  return { includeDir, path, sha256, source: options.pinned ? 'pinned' : 'generated' };
}
