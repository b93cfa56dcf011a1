// Compiles the loader's test BPF programs (sdk/src/bpf/testdata/*.bpf.c) into build/bpf/ with clang.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const src = join(root, 'sdk', 'src', 'bpf', 'testdata');
const out = join(root, 'build', 'bpf');
const arches = { x64: 'x86', arm64: 'arm64', arm: 'arm', riscv64: 'riscv', s390x: 's390', ppc64: 'powerpc' };
const arch = arches[process.arch];
if (!arch) throw new Error(`build-testdata: unsupported arch ${process.arch}`);

mkdirSync(out, { recursive: true });
const vmlinux = join(out, 'vmlinux.h');
if (!existsSync(vmlinux)) {
  // vmlinux.h describes the running kernel; CO-RE relocations make the objects portable anyway.
  const header = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
    maxBuffer: 256 * 1024 * 1024,
  });
  writeFileSync(vmlinux, header);
}

const headers = readdirSync(src).filter((f) => f.endsWith('.h'));
const newestHeader = Math.max(
  statSync(vmlinux).mtimeMs,
  ...headers.map((h) => statSync(join(src, h)).mtimeMs),
);
for (const file of readdirSync(src).filter((f) => f.endsWith('.bpf.c'))) {
  const input = join(src, file);
  const output = join(out, file.replace(/\.c$/, '.o'));
  if (existsSync(output)) {
    const built = statSync(output).mtimeMs;
    if (built > statSync(input).mtimeMs && built > newestHeader) continue;
  }
  execFileSync(
    'clang',
    [
      '-g',
      '-O2',
      '-Wall',
      '-Werror',
      '-target',
      'bpf',
      `-D__TARGET_ARCH_${arch}`,
      '-I',
      out,
      '-I',
      src,
      '-c',
      input,
      '-o',
      output,
    ],
    { stdio: 'inherit' },
  );
}
