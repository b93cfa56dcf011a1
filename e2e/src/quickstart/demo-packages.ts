// The demo's packages: acme/count built with clang (CO-RE, this kernel's BTF) from agent/testdata — the counter
// and a variant the verifier refuses — packed as real packages. Built under build/demo-bpf, apart from the e2e suite's.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packArchive } from '@bpfleet/sdk/archive';
import { arch, countManifest } from '../fixtures/test-packages.js';
import { REPO_ROOT } from './workspace-paths.js';

const OUT = join(REPO_ROOT, 'build', 'demo-bpf');
const SOURCES = join(REPO_ROOT, 'agent', 'testdata');

export type DemoProgram = 'xdp_count' | 'xdp_rejected';

const run = promisify(execFile);

/**
 * Compiles one of the e2e test programs (vmlinux.h made once from /sys/kernel/btf/vmlinux). Asynchronous: a
 * blocked event loop would miss the edge closing idle keep-alive connections and reuse a dead one.
 */
export async function compileDemoProgram(name: DemoProgram): Promise<Buffer> {
  await mkdir(OUT, { recursive: true });
  const vmlinux = join(OUT, 'vmlinux.h');
  if (!existsSync(vmlinux)) {
    const { stdout: header } = await run(
      'bpftool',
      ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'],
      {
        maxBuffer: 256 * 1024 * 1024,
      },
    );
    // Written aside then renamed: a concurrent run never reads half a header.
    await writeFile(`${vmlinux}.${process.pid}`, header);
    await rename(`${vmlinux}.${process.pid}`, vmlinux);
  }
  const output = join(OUT, `${name}.${process.pid}.bpf.o`);
  const args = ['-g', '-O2', '-target', 'bpf', `-D__TARGET_ARCH_${arch}`, '-I', OUT, '-c'];
  await run('clang', [...args, join(SOURCES, `${name}.bpf.c`), '-o', output]);
  try {
    return await readFile(output);
  } finally {
    await rm(output, { force: true });
  }
}

/** acme/count at `version`; `build` is the value the program writes to slot 1, telling which build counted. */
export function countPackage(version: string, build: number, object: Uint8Array): Promise<Buffer> {
  return packArchive([
    { path: 'manifest.json', data: Buffer.from(JSON.stringify(countManifest(version, build))) },
    { path: `bpf/${arch}/count.bpf.o`, data: object },
  ]);
}
