// Kernel tests: `programs` loads only the named programs of an object (bpftool is the observer), and a failed
// load carries libbpf's reason (a map that failed to create, an unknown section), not "failed to load object".
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, test } from 'node:test';
import { BpfError, VerifierError } from '../errors.js';
import { loadCollection } from './collection.js';
import { WARNING_BYTES, WARNING_LINES } from './load-failure.js';
import { readU64, splitPerCpu, u32 } from './map.js';
import { openFds, run, testObject } from './testing/fixtures.js';
import { insideTestNetns } from './testing/netns-suite.js';

interface BpftoolProg {
  id: number;
  name?: string;
}

// The programs of this file's objects (names unique to these tests: other suites may run at the same time).
const OURS = /^h1c_(xdp_|wake_|wnew_|swch_|known|unknown_sec|ringbuf_user)/;

/** Programs of this file the kernel has loaded whose names start with `prefix`. */
function kernelPrograms(prefix: string): BpftoolProg[] {
  const all = JSON.parse(run('bpftool', ['-j', 'prog', 'show'])) as BpftoolProg[];
  return all.filter((p) => p.name !== undefined && OURS.test(p.name) && p.name.startsWith(prefix));
}

/** Waits until the kernel has freed every program named `prefix…` (tracing programs go after an RCU grace period). */
async function allFreed(prefix: string): Promise<BpftoolProg[]> {
  const until = Date.now() + 5000;
  let left = kernelPrograms(prefix);
  while (left.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    left = kernelPrograms(prefix);
  }
  return left;
}

/** The program id on an interface's XDP hook, as `ip -j link` reports it, or undefined. */
function xdpProgramId(ifname: string): number | undefined {
  const [link] = JSON.parse(run('ip', ['-j', '-d', 'link', 'show', ifname])) as Array<{
    xdp?: { prog?: { id: number } };
  }>;
  return link?.xdp?.prog?.id;
}

if (insideTestNetns(import.meta.url, 'h1c-load')) {
  const peer = `h1c-peer-${process.pid}`;
  const inner = `h1c${process.pid % 100000}a`;
  const outer = `h1c${process.pid % 100000}b`;
  let fdsBefore: string[];

  beforeEach(async () => {
    fdsBefore = openFds();
    assert.deepEqual(await allFreed('h1c_'), [], 'no h1c_ program left from an earlier test');
  });
  afterEach(() => {
    spawnSync('ip', ['link', 'del', inner]);
    spawnSync('ip', ['netns', 'del', peer]);
  });

  test('three alternative XDP programs: only the one named loads, attaches and sees the pings', async () => {
    run('ip', ['netns', 'add', peer]);
    run('ip', ['link', 'add', inner, 'type', 'veth', 'peer', 'name', outer, 'netns', peer]);
    run('ip', ['addr', 'add', '198.18.101.1/30', 'dev', inner]);
    run('ip', ['link', 'set', inner, 'up']);
    const inPeer = (...args: string[]) =>
      spawnSync('nsenter', [`--net=/run/netns/${peer}`, ...args], { encoding: 'utf8' });
    inPeer('ip', 'addr', 'add', '198.18.101.2/30', 'dev', outer);
    inPeer('ip', 'link', 'set', outer, 'up');

    const coll = await loadCollection(testObject('xdp_alternatives'), { programs: ['h1c_xdp_pass'] });
    try {
      assert.deepEqual([...coll.programs.keys()], ['h1c_xdp_pass']);
      assert.equal(coll.spec.programs.length, 3, 'the spec still describes the whole object');
      const loaded = kernelPrograms('h1c_xdp_');
      assert.deepEqual(
        loaded.map((p) => p.name),
        ['h1c_xdp_pass'],
      );
      const link = await coll.program('h1c_xdp_pass').attach({ kind: 'xdp', interface: inner });
      try {
        assert.equal(xdpProgramId(inner), loaded[0]?.id);
        const ping = inPeer('ping', '-c', '3', '-i', '0.05', '-W', '1', '198.18.101.1');
        assert.equal(ping.status, 0, ping.stdout);
        assert.ok(readU64(coll.map('h1c_seen').lookup(u32(0)) ?? new Uint8Array(8)) >= 3n);
      } finally {
        link.close();
      }
      assert.throws(
        () => coll.program('h1c_xdp_drop'),
        (err: unknown) => err instanceof BpfError && err.code === 'NO_SUCH_PROGRAM',
      );
    } finally {
      coll.close();
    }
    assert.deepEqual(await allFreed('h1c_'), []);
    assert.deepEqual(openFds(), fdsBefore);
  });

  test('tp_btf and raw_tp variants of three handlers: naming the tp_btf ones loads exactly three', async () => {
    const wanted = ['h1c_wake_btf', 'h1c_wnew_btf', 'h1c_swch_btf'];
    const coll = await loadCollection(testObject('tracing_variants'), { programs: wanted });
    const links = [];
    try {
      assert.deepEqual([...coll.programs.keys()].sort(), [...wanted].sort());
      assert.deepEqual(
        kernelPrograms('h1c_')
          .map((p) => p.name)
          .sort(),
        [...wanted].sort(),
      );
      for (const name of wanted) links.push(await coll.program(name).attach());
      // The scheduler switches tasks all the time: the tp_btf handler counts within a short sleep.
      spawnSync('sleep', ['0.05']);
      const switches = splitPerCpu(coll.map('h1c_sched').lookup(u32(2)) ?? new Uint8Array(0), 8);
      assert.ok(switches.reduce((sum, v) => sum + readU64(v), 0n) > 0n);
    } finally {
      for (const link of links) link.close();
      coll.close();
    }
    assert.deepEqual(await allFreed('h1c_'), []);
    assert.deepEqual(openFds(), fdsBefore);
  });

  test('without `programs` every program loads, as a general loader does', async () => {
    const coll = await loadCollection(testObject('xdp_alternatives'));
    try {
      assert.equal(coll.programs.size, 3);
      assert.equal(kernelPrograms('h1c_xdp_').length, 3);
    } finally {
      coll.close();
    }
  });

  test('a name the object does not have is NO_SUCH_PROGRAM before anything loads', async () => {
    await assert.rejects(
      loadCollection(testObject('xdp_alternatives'), { programs: ['h1c_xdp_pass', 'h1c_nope'] }),
      (err: unknown) =>
        err instanceof BpfError &&
        err.code === 'NO_SUCH_PROGRAM' &&
        /^load bpfleet: no program h1c_nope in the object/.test(err.message),
    );
    assert.deepEqual(await allFreed('h1c_'), []);
    assert.deepEqual(openFds(), fdsBefore);
  });

  test('a map that fails to create is named in the error, with all of libbpf warnings kept', async () => {
    await assert.rejects(loadCollection(testObject('bad_ringbuf')), (err: unknown) => {
      assert.ok(err instanceof BpfError);
      assert.equal(err.code, 'LOAD_EINVAL');
      assert.match(
        err.message,
        /^load bpfleet: EINVAL \(Invalid argument\): libbpf: map 'h1c_events': failed to create/,
      );
      assert.doesNotMatch(err.message, /libbpf: libbpf:/);
      assert.ok(err.warnings.some((w) => /map 'h1c_events': failed to create/.test(w)));
      assert.ok(err.warnings.some((w) => /failed to load object/.test(w)));
      return true;
    });
    assert.deepEqual(openFds(), fdsBefore);
  });

  test('a verifier refusal keeps the whole log and libbpf warnings for the step', async () => {
    await assert.rejects(loadCollection(testObject('bad')), (err: unknown) => {
      assert.ok(err instanceof VerifierError);
      assert.match(err.log, /processed \d+ insns/);
      assert.ok(err.warnings.some((w) => /prog 'unchecked_read': BPF program load failed/.test(w)));
      return true;
    });
  });

  test('the reason survives after libbpf has printed more warnings than the ring keeps', async () => {
    for (let i = 0; i < 40; i++) await loadCollection(testObject('bad_ringbuf')).catch(() => undefined);
    await assert.rejects(loadCollection(testObject('bad_ringbuf')), /map 'h1c_events': failed to create/);
  });

  test('an unknown section fails the load with libbpf words; leaving it out of `programs` loads the rest', async () => {
    await assert.rejects(loadCollection(testObject('unknown_section')), (err: unknown) => {
      assert.ok(err instanceof BpfError);
      assert.match(err.message, /h1c_unknown_sec.*xdp_bogus\/h1c|xdp_bogus\/h1c.*h1c_unknown_sec/);
      const text = err.warnings.join('\n');
      assert.ok(text.length <= WARNING_BYTES && err.warnings.length <= WARNING_LINES);
      return true;
    });
    const coll = await loadCollection(testObject('unknown_section'), { programs: ['h1c_known'] });
    try {
      assert.deepEqual(
        kernelPrograms('h1c_').map((p) => p.name),
        ['h1c_known'],
      );
    } finally {
      coll.close();
    }
  });
}
