// Kernel test: the host probe says what this kernel (6.18, BTF, no kprobes, uprobes, no trampolines) really does.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCollection } from './collection.js';
import { loadCollectionSpec } from './collection-spec.js';
import { attachAuto, libbpf, loadObject, objInfo } from './internal/libbpf.js';
import { openObject, programsOf } from './internal/object.js';
import { readU64, u32 } from './map.js';
import { probeHost } from './probe.js';
import { checkPrograms } from './program-requirements.js';
import { checkRequires } from './requirements.js';
import { testObject } from './testing/fixtures.js';

function bpftool<T>(args: string[]): T {
  return JSON.parse(execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8' })) as T;
}

test('probeHost describes the running kernel and finds what it supports', () => {
  const probe = probeHost();
  assert.equal(probe.kernelRelease, release());
  assert.equal(probe.libbpf, '1.1');
  assert.equal(probe.mounts.bpffs, '/sys/fs/bpf');
  for (const t of [
    'xdp',
    'sched_cls',
    'cgroup_skb',
    'sock_ops',
    'raw_tracepoint',
    'tracepoint',
    'cgroup_sock_addr',
    'tracing',
  ]) {
    assert.ok(probe.programTypes.includes(t), t);
  }
  for (const t of ['hash', 'array', 'percpu_array', 'lpm_trie', 'ringbuf', 'lru_hash'])
    assert.ok(probe.mapTypes.includes(t), t);
  for (const t of ['cgroup_inet4_connect', 'cgroup_udp4_recvmsg', 'cgroup_getsockopt', 'trace_raw_tp'])
    assert.ok(probe.attachTypes.includes(t), t);
  assert.equal(probe.supportsHelper('bpf_ktime_get_ns', 'xdp'), true);
  // Packet-writing helpers exist for TC programs but not for socket filters or tracing programs.
  assert.equal(probe.supportsHelper('bpf_skb_store_bytes', 'sched_cls'), true);
  assert.equal(probe.supportsHelper('bpf_skb_store_bytes', 'socket_filter'), false);
  assert.equal(probe.supportsHelper('bpf_skb_store_bytes', 'tracing'), false);
  assert.equal(probe.supportsHelper('bpf_ringbuf_output', 'tracing'), true);
  assert.equal(probe.supportsHelper('bpf_nonexistent', 'xdp'), undefined);
  const unmet = checkRequires(
    { arches: [probe.arch as 'x86'], kernel: '99.0', mapTypes: ['ringbuf'], programTypes: ['tracing'] },
    probe,
  );
  assert.deepEqual(
    unmet.map((u) => u.kind),
    ['kernel'],
  );
});

test('tracing is supported because a tp_btf program really loads; fentry is not, and really is refused', async () => {
  const probe = probeHost();
  assert.ok(probe.programTypes.includes('tracing'));
  assert.deepEqual(checkRequires({ arches: [], programTypes: ['tracing'] }, probe), []);
  const coll = await loadCollection(testObject('exec_events'));
  try {
    const id = coll.program('on_exec').id;
    const shown = bpftool<{ id: number; type: string }>(['prog', 'show', 'id', String(id)]);
    assert.equal(shown.type, 'tracing', 'the kernel holds the tp_btf program as a tracing program');
  } finally {
    coll.close();
  }
  // fentry needs a trampoline, which this kernel refuses: the probe says so, and so does a real load.
  assert.ok(!probe.attachTypes.includes('trace_fentry'));
  assert.match(probe.unsupported.attachTypes.trace_fentry ?? '', /^the kernel refuses to load one: EPERM/);
  await assert.rejects(loadCollection(testObject('fentry')), { code: 'LOAD_EPERM' });
});

test('kprobe is reported unsupported, with a reason, and a kprobe attach really fails', async () => {
  const probe = probeHost();
  assert.ok(!probe.programTypes.includes('kprobe'));
  const [unmet] = checkRequires({ arches: [], programTypes: ['kprobe'] }, probe);
  assert.match(unmet?.message ?? '', /^program type kprobe \(no kprobe support: CONFIG_KPROBES is off/);
  // libbpf's own attach (not the sdk's pre-check) to a real kernel function: the kernel gives it no way in.
  const opened = openObject(testObject('probes'), 'h3p_probes');
  try {
    assert.equal(await loadObject(opened.obj), 0, 'a kprobe program loads without CONFIG_KPROBES');
    const [prog] = programsOf(opened.obj);
    assert.ok(prog);
    const progId = new DataView(objInfo(libbpf.programFd(prog), 256).info.buffer).getUint32(4, true);
    assert.equal(bpftool<{ type: string }>(['prog', 'show', 'id', String(progId)]).type, 'kprobe');
    const attached = await attachAuto(prog);
    if (attached.link) libbpf.linkDestroy(attached.link);
    assert.equal(attached.link, null, 'libbpf attached a kprobe');
    const links = bpftool<Array<{ prog_id: number }>>(['link', 'show']);
    assert.ok(!links.some((l) => l.prog_id === progId), 'no link holds the kprobe program');
  } finally {
    opened.close();
  }
  // The legacy route is not there either: tracefs has no kprobe_events to write a probe into.
  const events = join(probe.mounts.tracefs ?? '/sys/kernel/tracing', 'kprobe_events');
  assert.equal(existsSync(events), false);
  assert.throws(() => writeFileSync(events, 'p:h3p_kprobe/nanosleep do_nanosleep\n', { flag: 'a' }));
});

test('the probe runs once per process: a second probeHost and a repeated helper question load nothing', () => {
  // A fresh process, so the first call is really cold; it reports its load counts and timings.
  const script = `
    import { probeHost } from './probe.js';
    import { checkRequires } from './requirements.js';
    import { probeLoadCount } from './internal/libbpf.js';
    const read = (p) => [p.programTypes.length, p.mapTypes.length, p.attachTypes.length];
    const t0 = performance.now();
    const first = probeHost();
    const call = performance.now() - t0;
    const atCall = probeLoadCount();
    checkRequires({ arches: [], programTypes: ['xdp'], mapTypes: ['hash', 'lpm_trie'] }, first);
    const check = performance.now() - t0;
    const forCheck = probeLoadCount() - atCall;
    read(first);
    const cold = performance.now() - t0;
    const afterCold = probeLoadCount();
    first.supportsHelper('bpf_ktime_get_ns', 'xdp');
    const afterHelper = probeLoadCount();
    const t1 = performance.now();
    const second = probeHost();
    read(second);
    const warm = performance.now() - t1;
    second.supportsHelper('bpf_ktime_get_ns', 'xdp');
    console.log(JSON.stringify({ call, check, forCheck, cold, warm, atCall, afterCold, afterHelper, end: probeLoadCount() }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: import.meta.dirname,
    encoding: 'utf8',
  });
  const r = JSON.parse(out) as Record<string, number>;
  assert.equal(r.atCall, 0, 'probeHost itself loads nothing: each type is probed when first asked');
  assert.equal(r.forCheck, 3, 'checking xdp, hash and lpm_trie loads one program and creates two maps');
  assert.ok((r.afterCold ?? 0) > 40, `reading every kind loaded ${r.afterCold} programs and maps`);
  assert.equal(r.afterHelper, (r.afterCold ?? 0) + 1, 'a helper question loads one program');
  assert.equal(r.end, r.afterHelper, 'the second probeHost and the repeated question loaded nothing');
  console.log(
    `probeHost: call ${r.call?.toFixed(1)} ms, then checkRequires(xdp, hash, lpm_trie) at ${r.check?.toFixed(1)} ms, every type read at ${r.cold?.toFixed(1)} ms; warm ${r.warm?.toFixed(2)} ms`,
  );
});

test('a uprobe attaches here although kprobes do not: the probe says so, and the kernel runs it', async () => {
  const probe = probeHost();
  assert.ok(probe.attachTypes.includes('uprobe'));
  const coll = await loadCollection(testObject('uprobe_getpid'));
  try {
    const prog = coll.program('on_getpid');
    const link = await prog.attach();
    try {
      const links = bpftool<Array<{ prog_id: number; type: string }>>(['link', 'show']);
      assert.ok(
        links.some((l) => l.prog_id === prog.id && l.type === 'perf_event'),
        'a perf_event link runs it',
      );
      execFileSync('python3', ['-c', 'import os; os.getpid()']);
      const calls = coll.map('h3p_getpid_calls').lookup(u32(0));
      assert.ok(calls && readU64(calls) >= 1n, 'the uprobe ran on getpid');
    } finally {
      link.close();
    }
  } finally {
    coll.close();
  }
});

test('checkPrograms judges each program by its own route: uprobe yes, kprobe and fentry no, tp_btf yes', () => {
  const probe = probeHost();
  const programs = (name: string) => loadCollectionSpec(testObject(name)).programs;
  assert.deepEqual(checkPrograms(programs('uprobe_getpid'), probe), []);
  assert.deepEqual(checkPrograms(programs('exec_events'), probe), []);
  assert.deepEqual(
    checkPrograms(programs('probes'), probe).map((u) => u.message),
    [
      'attach type kprobe for program on_nanosleep (no kprobe support: CONFIG_KPROBES is off, the kernel has no kprobe PMU and no kprobe_events)',
    ],
  );
  assert.deepEqual(
    checkPrograms(programs('fentry'), probe).map((u) => u.message),
    ['attach type trace_fentry for program on_nanosleep_entry (the kernel refuses to load one: EPERM)'],
  );
});
