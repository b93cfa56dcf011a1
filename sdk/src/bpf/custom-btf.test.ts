// Kernel tests: with /sys/kernel/btf hidden (a private mount namespace), CO-RE loads with a minimized BTF file only.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./testing/no-btf-child.js', import.meta.url));
const PROBE_CHILD = fileURLToPath(new URL('./testing/no-btf-probe-child.js', import.meta.url));
const OBJECT = fileURLToPath(new URL('../../../build/bpf/xdp_counter.bpf.o', import.meta.url));

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bpfleet-hdb-btf-'));
  execFileSync('bpftool', ['gen', 'min_core_btf', '/sys/kernel/btf/vmlinux', join(dir, 'min.btf'), OBJECT]);
  writeFileSync(join(dir, 'corrupt.btf'), Buffer.from('not a BTF file at all'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the child in a new mount namespace with an empty tmpfs over /sys/kernel/btf (private: nothing leaks). */
function withoutKernelBtf(
  btfFile?: string,
  child = CHILD,
): {
  kernelBtf: boolean;
  loaded: boolean;
  code?: string;
  message?: string;
} {
  const script = `mount -t tmpfs hdb-nobtf /sys/kernel/btf && exec "$0" "$@"`;
  const args = ['--mount', '--propagation', 'private', 'sh', '-c', script, process.execPath, child];
  const out = execFileSync('unshare', btfFile ? [...args, btfFile] : args, { encoding: 'utf8' });
  return JSON.parse(out);
}

test('without kernel BTF, a CO-RE object does not load on its own', () => {
  const r = withoutKernelBtf();
  assert.equal(r.kernelBtf, false);
  assert.equal(r.loaded, false, 'libbpf needs a BTF to relocate against');
});

test('without kernel BTF, the minimized BTF file loads it (bpftool sees the program)', () => {
  const r = withoutKernelBtf(join(dir, 'min.btf'));
  assert.equal(r.kernelBtf, false);
  assert.equal(r.loaded, true, JSON.stringify(r));
});

test('a corrupt BTF file is a load error, and its temp file is gone', () => {
  const before = readdirSync(tmpdir()).filter((f) => f.startsWith('bpfleet-btf-'));
  const r = withoutKernelBtf(join(dir, 'corrupt.btf'));
  assert.equal(r.loaded, false);
  assert.ok(r.code, `a BpfleetError code: ${JSON.stringify(r)}`);
  const leftover = readdirSync(tmpdir()).filter((f) => f.startsWith('bpfleet-btf-') && !before.includes(f));
  assert.deepEqual(leftover, []);
});

test('without kernel BTF, the probe says so: source none, and BTF-id attach types need it', () => {
  const r = withoutKernelBtf(undefined, PROBE_CHILD) as unknown as Record<string, unknown>;
  assert.equal(r.btf, false);
  assert.equal(r.btfSource, 'none');
  for (const kind of ['tracing', 'fentry', 'lsm']) assert.match(String(r[kind]), /^no kernel BTF /, kind);
  assert.equal(r.xdp, true, 'packet programs need no kernel BTF');
});
