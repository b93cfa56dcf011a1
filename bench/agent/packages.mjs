// The benchmark's packages: acme/count (the e2e XDP counter) and acme/tcx-count (a tcx counter that stacks),
// compiled with clang against this kernel's BTF and signed with the dev publisher key.
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const e2e = (path) => import(join(root, 'e2e', 'dist', path));
const { compileDemoProgram, countPackage } = await e2e('quickstart/demo-packages.js');
const { arch } = await e2e('fixtures/test-packages.js');
const { signArchive } = await e2e('quickstart/publishing.js');
const { packArchive } = await import('@bpfleet/sdk/archive');

const run = promisify(execFile);

/** The XDP counter object (bytes), as the demo builds it. */
export const compileCount = () => compileDemoProgram('xdp_count');

/** tcx-count.bpf.c compiled beside the demo's vmlinux.h (compileCount made it). */
export async function compileTcxCount() {
  const include = join(root, 'build', 'demo-bpf');
  const output = join(include, `tcx-count.${process.pid}.bpf.o`);
  const args = ['-g', '-O2', '-target', 'bpf', `-D__TARGET_ARCH_${arch}`, '-I', include, '-c'];
  await run('clang', [...args, join(here, 'tcx-count.bpf.c'), '-o', output]);
  try {
    return await readFile(output);
  } finally {
    await rm(output, { force: true });
  }
}

/** acme/count@version, signed. */
export async function signedCount(version, build, object, publisherKey) {
  return signArchive(await countPackage(version, build, object), publisherKey);
}

/** acme/tcx-count@version, signed: one tcx ingress program and its counter as a metric. */
export async function signedTcxCount(version, object, publisherKey) {
  const manifest = {
    name: 'acme/tcx-count',
    version,
    license: 'GPL',
    programs: [{ name: 'count_ingress' }],
    maps: {
      counts: {
        layout: { key: 'u32', value: 'u64' },
        metrics: [
          { name: 'packets', type: 'counter', help: 'packets at tcx ingress', labels: { slot: 'key' } },
        ],
      },
    },
    requires: { arches: [arch], btf: true, programTypes: ['sched_cls'] },
  };
  const archive = await packArchive([
    { path: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) },
    { path: `bpf/${arch}/tcx-count.bpf.o`, data: object },
  ]);
  return signArchive(archive, publisherKey);
}
