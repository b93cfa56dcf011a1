// Kernel test: the inventory against independent observers (uname, /proc/meminfo, bpftool, Python's note parse).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { probeHost } from '@bpfleet/sdk/bpf';
import { toInventory } from '@bpfleet/sdk/protocol';
import { collectInventory, kernelBuildId } from './device-inventory.js';

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' }).trim();

test('the inventory says what uname, /proc/meminfo, the kernel notes and bpftool say', (t) => {
  // libbpf's first use (the ABI check, name tables) is paid by every agent at start; the inventory adds the probes.
  const t0 = performance.now();
  const host = probeHost();
  const t1 = performance.now();
  const inventory = collectInventory(host, '9.9.9');
  const ms = performance.now() - t1;
  t.diagnostic(
    `libbpf first use ${(t1 - t0).toFixed(1)} ms; inventory (common types probed) ${ms.toFixed(1)} ms`,
  );
  assert.deepEqual(toInventory(JSON.parse(JSON.stringify(inventory))), inventory, 'the protocol accepts it');
  assert.equal(inventory.arch, { x86_64: 'x86', aarch64: 'arm64' }[sh('uname', ['-m'])]);
  assert.equal(inventory.kernel.release, sh('uname', ['-r']));
  assert.equal(inventory.kernel.version, sh('uname', ['-v']));
  const python = `
import struct
d = open('/sys/kernel/notes', 'rb').read(); i = 0
while i + 12 <= len(d):
    n, s, t = struct.unpack_from('<III', d, i); name = d[i+12:i+12+n]; o = i + 12 + ((n + 3) & ~3)
    if t == 3 and name == b'GNU\\0': print(d[o:o+s].hex()); break
    i = o + ((s + 3) & ~3)`;
  assert.equal(inventory.kernel.buildId, sh('python3', ['-c', python]));
  const memKb = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
  assert.equal(inventory.memoryBytes, memKb * 1024);
  assert.equal(inventory.btf, 'kernel');
  assert.equal(inventory.endianness, 'little');
  const bpftool = JSON.parse(sh('bpftool', ['-j', 'feature', 'probe', 'kernel'])).program_types;
  for (const type of ['xdp', 'sched_cls', 'cgroup_skb', 'sock_ops']) {
    assert.equal(inventory.programTypes[type] === true, bpftool[`have_${type}_prog_type`], type);
  }
  // This kernel has no kprobes and refuses fentry (facts of the test machines); both come with a reason.
  assert.match(String(inventory.programTypes.kprobe), /no kprobe support/);
  assert.match(String(inventory.attachTypes.trace_fentry), /EPERM/);
  assert.ok(ms < 1000, `probing the common set took ${ms} ms`);
});

test('the build id is read from GNU notes only, and a truncated note yields none', () => {
  const note = (name: string, type: number, desc: number[]) => {
    const n = Buffer.from(name);
    const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
    const head = Buffer.alloc(12);
    head.writeUInt32LE(n.length, 0);
    head.writeUInt32LE(desc.length, 4);
    head.writeUInt32LE(type, 8);
    return Buffer.concat([head, pad(n), pad(Buffer.from(desc))]);
  };
  const xen = note('Xen\0', 3, [1, 2, 3, 4]);
  const gnu = note('GNU\0', 3, [0xde, 0xad, 0xbe, 0xef, 0x01]);
  assert.equal(kernelBuildId(Buffer.concat([xen, gnu])), 'deadbeef01');
  assert.equal(kernelBuildId(Buffer.concat([xen, gnu.subarray(0, 18)])), undefined);
  assert.equal(kernelBuildId(new Uint8Array()), undefined);
});
