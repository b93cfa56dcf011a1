// The build's minimized BTF against the real clang and bpftool: packed for "core", refused where it cannot fit.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BuildManifest, buildProgram } from './build-program.js';
import { isKernelGplLicense } from './license-check.js';
import { kernelBtfNeeds } from './min-btf.js';
import { runTool } from './run-tool.js';
import { findToolchain, type Toolchain } from './toolchain.js';

const HEAD = `// SPDX-License-Identifier: GPL-2.0
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
char LICENSE[] SEC("license") = "GPL";
`;

/** Packet parsing through CO-RE: fields of xdp_md and iphdr only. */
const PORTABLE = `${HEAD}
SEC("xdp")
int hdb_parse(struct xdp_md *ctx)
{
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > end) return XDP_PASS;
  return ip->ttl == 1 ? XDP_DROP : XDP_PASS;
}
`;

/** Reads a kernel-internal struct: its offsets belong to one kernel. */
const INTERNAL = `${HEAD}
SEC("raw_tp/sched_switch")
int hdb_task(void *ctx)
{
  struct task_struct *t = (void *)bpf_get_current_task();
  return BPF_CORE_READ(t, pid) == 1;
}
`;

/** Attaches by kernel BTF id: only the kernel's BTF can say where. */
const TP_BTF = `${HEAD}
SEC("tp_btf/sched_switch")
int BPF_PROG(hdb_switch, bool preempt)
{
  return 0;
}
`;

function manifest(name: string, btf: boolean | 'core'): BuildManifest {
  return {
    name: `test/${name.replace(/_/g, '-')}`,
    version: '1.0.0',
    license: 'GPL',
    programs: [{ name }],
    requires: { arches: ['x86'], btf },
  };
}

describe('minimized BTF in the build', () => {
  let root: string;
  let toolchain: Toolchain;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'bpfleet-hdb-minbtf-'));
    toolchain = await findToolchain(runTool);
  });
  after(() => rm(root, { recursive: true, force: true }));

  const build = async (source: string, m: BuildManifest) => {
    const dir = await mkdtemp(join(root, 'p-'));
    await writeFile(join(dir, 'manifest.json'), '{}');
    await writeFile(join(dir, 'prog.bpf.c'), source);
    return buildProgram(runTool, toolchain, { dir, manifest: m, isGplCompatible: isKernelGplLicense });
  };

  it('packs bpf/<arch>/<name>.min.btf for "core" when only UAPI and wire-format types are relocated', async () => {
    const result = await build(PORTABLE, manifest('hdb_parse', 'core'));
    assert.deepEqual(result.issues, []);
    const packed = result.files['bpf/x86/prog.min.btf'];
    assert.ok(packed, `packed: ${JSON.stringify(Object.keys(result.files))}`);
    const [btf] = result.btf;
    assert.deepEqual([...(btf?.types ?? [])].sort(), ['iphdr', 'xdp_md']);
    assert.deepEqual(btf?.needs, []);
    assert.ok(
      (btf?.bytes ?? 0) > 0 && (btf?.bytes ?? 0) < 4096,
      `a few hundred bytes, not megabytes: ${btf?.bytes}`,
    );
    // bpftool reads the packed file as BTF holding the relocated types.
    const dump = execFileSync('bpftool', ['btf', 'dump', 'file', packed], { encoding: 'utf8' });
    assert.match(dump, /STRUCT 'iphdr'/);
  });

  it('suggests "core" when the manifest says btf: true for a portable object, and packs nothing', async () => {
    const result = await build(PORTABLE, manifest('hdb_parse', true));
    assert.deepEqual(
      result.issues.map((i) => `${i.severity}:${i.code}`),
      ['warning:BTF_CORE_POSSIBLE'],
    );
    assert.equal(result.ok, true);
    assert.equal(result.files['bpf/x86/prog.min.btf'], undefined);
  });

  it('fails "core" for an object that relocates kernel-internal types', async () => {
    const result = await build(INTERNAL, manifest('hdb_task', 'core'));
    assert.equal(result.ok, false);
    const issue = result.issues.find((i) => i.code === 'BTF_CORE_NOT_PORTABLE');
    assert.match(issue?.message ?? '', /kernel-internal types \(.*task_struct/);
    assert.equal(result.files['bpf/x86/prog.min.btf'], undefined);
  });

  it('fails "core" for a program type that attaches by kernel BTF id (tp_btf)', async () => {
    const result = await build(TP_BTF, manifest('hdb_switch', 'core'));
    assert.equal(result.ok, false);
    const issue = result.issues.find((i) => i.code === 'BTF_CORE_NOT_PORTABLE');
    assert.match(issue?.message ?? '', /attach by kernel BTF id \(tp_btf\/sched_switch\)/);
  });

  it('without a kernel BTF to cut from, "core" fails the build and true does not care', async () => {
    const build = async (btf: boolean | 'core') => {
      const dir = await mkdtemp(join(root, 'p-'));
      await writeFile(join(dir, 'manifest.json'), '{}');
      await writeFile(join(dir, 'prog.bpf.c'), PORTABLE);
      return buildProgram(runTool, toolchain, {
        dir,
        manifest: manifest('hdb_parse', btf),
        kernelBtf: join(root, 'no-such-btf'),
        isGplCompatible: isKernelGplLicense,
      });
    };
    const core = await build('core');
    assert.equal(core.ok, false);
    assert.deepEqual(
      core.issues.map((i) => i.code),
      ['MIN_BTF_FAILED'],
    );
    const kernel = await build(true);
    assert.deepEqual(kernel.issues, []);
  });

  it('names kernel symbols as a need for kernel BTF', () => {
    assert.deepEqual(kernelBtfNeeds({ types: ['xdp_md'], sections: ['xdp'], ksyms: ['bpf_rcu_read_lock'] }), [
      'resolves kernel symbols (bpf_rcu_read_lock)',
    ]);
  });
});
