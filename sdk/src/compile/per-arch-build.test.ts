// `bpfleet build` per arch: each arch's own pt_regs offsets, byte order and CO-RE check; identical objects ship as any.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliDecompressSync } from 'node:zlib';
import { unpackArchive } from '../archive/index.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../btf-fixtures/', import.meta.url));
const LIBRARY = fileURLToPath(new URL('../../../bpf-programs/', import.meta.url));
const run = promisify(execFile);
const BIG = { maxBuffer: 512 * 1024 * 1024 };

const HEAD = `// SPDX-License-Identifier: GPL-2.0
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
char LICENSE[] SEC("license") = "GPL";
`;

/** Reads its second argument, which BPF_KPROBE takes from a register: x86's si, arm64's regs[1], riscv's a1. */
const KPROBE = `${HEAD}
SEC("kprobe/do_unlinkat")
int BPF_KPROBE(arc_unlink, int dfd, struct filename *name)
{
  return BPF_CORE_READ(name, name) != 0;
}
`;

/** x86's pt_regs has si; arm64's has no such field: the relocation resolves only on x86. */
const X86_ONLY = `${HEAD}
struct pt_regs___arc { unsigned long si; } __attribute__((preserve_access_index));
SEC("kprobe/do_unlinkat")
int arc_si(struct pt_regs___arc *regs)
{
  return BPF_CORE_READ(regs, si) != 0;
}
`;

/** The same read, asked first: on arm64 the read is dead code the verifier never sees, not a failure. */
const X86_GUARDED = `${HEAD}
struct pt_regs___arc { unsigned long si; } __attribute__((preserve_access_index));
SEC("kprobe/do_unlinkat")
int arc_si(struct pt_regs___arc *regs)
{
  if (!bpf_core_field_exists(regs->si)) return 0;
  return BPF_CORE_READ(regs, si) != 0;
}
`;

async function bpfleet(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], BIG);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A member's byte offset in a struct of a BTF file, read from bpftool's raw dump (not from the SDK). */
async function memberOffset(btfFile: string, struct: string, member: string): Promise<number> {
  const { stdout } = await run('bpftool', ['btf', 'dump', 'file', btfFile, 'format', 'raw'], BIG);
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^\\[\\d+\\] STRUCT '${struct}' `).test(l));
  assert.ok(start >= 0, `${btfFile}: no struct ${struct}`);
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('\t')) break;
    const m = new RegExp(`^\\t'${member}' type_id=\\d+ bits_offset=(\\d+)`).exec(line);
    if (m) return Number(m[1]) / 8;
  }
  throw new Error(`${btfFile}: struct ${struct} has no member ${member}`);
}

/** The offset from r1 (the pt_regs pointer) of the object's first 8-byte load, from llvm-objdump's disassembly. */
async function firstContextLoad(object: string): Promise<number> {
  const { stdout } = await run('llvm-objdump', ['-d', '--no-show-raw-insn', object], BIG);
  const m = /= \*\(u64 \*\)\(r1 \+ (\d+)\)/.exec(stdout);
  assert.ok(m, `no load from r1 in:\n${stdout}`);
  return Number(m[1]);
}

describe('bpfleet build per arch', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'bpfleet-arc-build-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  const program = async (name: string, source: string, arches: string[], btf: boolean | 'core' = true) => {
    const dir = join(work, name);
    await mkdir(dir, { recursive: true });
    const programName = /int (?:BPF_KPROBE\()?(\w+)/.exec(source.slice(HEAD.length))?.[1];
    const manifest = {
      name: `arc/${name}`,
      version: '1.0.0',
      description: 'per-arch build test',
      license: 'GPL',
      programs: [{ name: programName }],
      requires: { arches, btf },
    };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
    await writeFile(join(dir, `${name}.bpf.c`), source);
    return dir;
  };

  const fixture = async (arch: string) => {
    const file = join(work, `${arch}.btf`);
    await writeFile(file, brotliDecompressSync(await readFile(join(FIXTURES, `${arch}.btf.br`))));
    return file;
  };

  it('a BPF_KPROBE program reads its argument at x86 pt_regs.si, arm64 user_pt_regs.regs[1], riscv a1', async () => {
    const dir = await program('kprobe', KPROBE, ['x86', 'arm64', 'riscv']);
    const build = await bpfleet(['build', dir, '--json']);
    assert.equal(build.code, 0, build.stdout + build.stderr);
    const x86 = await firstContextLoad(join(dir, 'build', 'bpf', 'x86', 'kprobe.bpf.o'));
    const arm64 = await firstContextLoad(join(dir, 'build', 'bpf', 'arm64', 'kprobe.bpf.o'));
    const wantX86 = await memberOffset(await fixture('x86'), 'pt_regs', 'si');
    const wantArm64 = (await memberOffset(await fixture('arm64'), 'user_pt_regs', 'regs')) + 8;
    const riscv = await firstContextLoad(join(dir, 'build', 'bpf', 'riscv', 'kprobe.bpf.o'));
    assert.equal(riscv, await memberOffset(await fixture('riscv'), 'user_regs_struct', 'a1'));
    // This machine's own kernel is x86: its BTF says the same, independently of the SDK's fixture.
    assert.equal(await memberOffset('/sys/kernel/btf/vmlinux', 'pt_regs', 'si'), wantX86);
    assert.equal(x86, wantX86);
    assert.equal(arm64, wantArm64);
    assert.equal(new Set([x86, arm64, riscv]).size, 3);
    const result = JSON.parse(build.stdout) as { any: string[]; package: { file: string } };
    assert.deepEqual(result.any, []);
    const { files } = await unpackArchive(await readFile(result.package.file));
    assert.deepEqual([...files.keys()].filter((f) => f.startsWith('bpf/')).sort(), [
      'bpf/arm64/kprobe.bpf.o',
      'bpf/riscv/kprobe.bpf.o',
      'bpf/x86/kprobe.bpf.o',
    ]);
  });

  it('a CO-RE relocation the arch BTF cannot satisfy fails the build for that arch, naming it', async () => {
    const dir = await program('x86only', X86_ONLY, ['x86', 'arm64']);
    const x86 = await bpfleet(['build', dir, '--arch', 'x86', '--no-pack']);
    assert.equal(x86.code, 0, x86.stdout + x86.stderr);
    const both = await bpfleet(['build', dir, '--no-pack']);
    assert.equal(both.code, 1, both.stdout + both.stderr);
    assert.match(
      both.stdout,
      /error: bpf\/arm64\/x86only\.bpf\.o: CO-RE relocation #0 in kprobe\/do_unlinkat \(byte_off of struct pt_regs___arc\.si\) has no match in arm64's kernel BTF \(6\.12\.\d+\+deb12-arm64\).*\[CORE_RELO_UNRESOLVED\]/,
    );
    assert.doesNotMatch(both.stdout, /bpf\/x86\/x86only\.bpf\.o: CO-RE relocation/);
  });

  it('a read guarded by bpf_core_field_exists is a warning for the arch without the field, not a failure', async () => {
    const dir = await program('guarded', X86_GUARDED, ['x86', 'arm64']);
    const build = await bpfleet(['build', dir, '--no-pack', '--json']);
    assert.equal(build.code, 0, build.stdout + build.stderr);
    const { issues } = JSON.parse(build.stdout) as {
      issues: Array<{ severity: string; code: string; message: string }>;
    };
    const unresolved = issues.filter((i) => i.code === 'CORE_RELO_UNRESOLVED');
    assert.equal(unresolved.length, 1, JSON.stringify(issues));
    assert.equal(unresolved[0]?.severity, 'warning');
    assert.match(unresolved[0]?.message ?? '', /^bpf\/arm64\/guarded\.bpf\.o: .*pt_regs___arc\.si.*guarded/);
  });

  it('an arch without its own BTF fixture builds against x86 and warns about kernel-internal types', async () => {
    const source = `${HEAD}\nSEC("raw_tp/sched_switch")\nint arc_task(void *ctx)\n{\n  struct task_struct *t = (void *)bpf_get_current_task();\n  return BPF_CORE_READ(t, pid) == 1;\n}\n`;
    const dir = await program('borrowed', source, ['x86', 'arm']);
    const build = await bpfleet(['build', dir, '--no-pack', '--json']);
    assert.equal(build.code, 0, build.stdout + build.stderr);
    const { issues } = JSON.parse(build.stdout) as { issues: Array<{ code: string; message: string }> };
    const borrowed = issues.filter((i) => i.code === 'ARCH_BTF_BORROWED');
    assert.equal(borrowed.length, 1, JSON.stringify(issues));
    assert.match(borrowed[0]?.message ?? '', /^bpf\/arm\/borrowed\.bpf\.o: .*x86's kernel BTF.*task_struct/);
  });

  it('a library network program builds to the same bytes for every arch and ships once as bpf/any', async () => {
    const out = join(work, 'xdp-firewall');
    const build = await bpfleet(['build', join(LIBRARY, 'xdp-firewall'), '--build-dir', out, '--json']);
    assert.equal(build.code, 0, build.stdout + build.stderr);
    const result = JSON.parse(build.stdout) as { any: string[]; package: { file: string } };
    assert.deepEqual(result.any, ['x86', 'arm64']);
    const x86 = await readFile(join(out, 'bpf', 'x86', 'xdp-firewall.bpf.o'));
    assert.ok(x86.equals(await readFile(join(out, 'bpf', 'arm64', 'xdp-firewall.bpf.o'))));
    const { files } = await unpackArchive(await readFile(result.package.file));
    assert.deepEqual([...files.keys()].filter((f) => f.startsWith('bpf/')).sort(), [
      'bpf/any/xdp-firewall.bpf.o',
      'bpf/any/xdp-firewall.min.btf',
    ]);
    assert.ok(files.get('bpf/any/xdp-firewall.bpf.o')?.equals(x86));
  });

  it('a big-endian arch gets a bpfeb object of its own beside the little-endian bpf/any', async () => {
    const dir = await program(
      'xdp',
      `${HEAD}\nSEC("xdp")\nint arc_pass(struct xdp_md *ctx)\n{\n  return XDP_PASS;\n}\n`,
      ['x86', 'arm64', 's390'],
    );
    const build = await bpfleet(['build', dir, '--json']);
    assert.equal(build.code, 0, build.stdout + build.stderr);
    const result = JSON.parse(build.stdout) as { any: string[]; package: { file: string } };
    assert.deepEqual(result.any, ['x86', 'arm64']);
    const { files } = await unpackArchive(await readFile(result.package.file));
    const s390 = files.get('bpf/s390/xdp.bpf.o');
    const any = files.get('bpf/any/xdp.bpf.o');
    assert.ok(s390 && any, [...files.keys()].join(', '));
    // ELF EI_DATA: 1 little-endian, 2 big-endian; e_machine 247 is EM_BPF in the object's own byte order.
    assert.equal(any[5], 1);
    assert.equal(s390[5], 2);
    assert.equal(s390.readUInt16BE(18), 247);
  });
});
