// Kernel tests: tp_btf, raw_tp and tracepoint programs run; ring buffer samples arrive as events;
// loading leaves the event loop free; kprobe and fentry are refused with a reason where unsupported.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { NotSupportedError } from '../errors.js';
import { loadCollection } from './collection.js';
import type { Link } from './link.js';
import { readU64, u32 } from './map.js';
import { readRingBuffer } from './ring-buffer.js';
import { openFds, testObject } from './testing/fixtures.js';

test('tp_btf sends exec events through a ring buffer; raw_tp and tracepoint count execs', async () => {
  const fdsBefore = openFds();
  const coll = await loadCollection(testObject('exec_events'), { config: { tag: 4242 } });
  const links: Link[] = [];
  const samples: Array<{ pid: number; tag: number; comm: string }> = [];
  const reader = readRingBuffer(coll.map('events'), (data) => {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const comm = Buffer.from(data.subarray(8, 24));
    samples.push({
      pid: view.getUint32(0, true),
      tag: view.getUint32(4, true),
      comm: comm.toString('utf8', 0, comm.indexOf(0)),
    });
  });
  try {
    for (const name of ['on_exec', 'count_exec_raw', 'count_exec_tp'])
      links.push(await coll.program(name).attach());
    assert.deepEqual(
      links.map((l) => l.info().type),
      // tp_btf programs attach through a raw tracepoint link.
      ['raw_tracepoint', 'raw_tracepoint', 'perf_event'],
    );
    const child = spawnSync('/bin/true');
    assert.equal(child.status, 0);
    const deadline = Date.now() + 5000;
    while (!samples.some((s) => s.pid === child.pid) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const mine = samples.find((s) => s.pid === child.pid);
    assert.ok(mine, `no exec event for pid ${child.pid} among ${samples.length}`);
    assert.equal(mine.tag, 4242, 'the config value set before load reached the program');
    assert.equal(mine.comm, 'true');
    const counts = coll.map('exec_counts');
    assert.ok(readU64(counts.lookup(u32(0)) ?? new Uint8Array(8)) >= 1n, 'raw_tp ran');
    assert.ok(readU64(counts.lookup(u32(1)) ?? new Uint8Array(8)) >= 1n, 'tracepoint ran');
  } finally {
    await reader.close();
    for (const l of links) l.close();
    coll.close();
  }
  assert.equal(reader.error, undefined);
  assert.deepEqual(openFds(), fdsBefore);
});

test('loading runs off the main thread: the event loop keeps turning', async () => {
  let turns = 0;
  let running = true;
  const spin = () => {
    turns++;
    if (running) setImmediate(spin);
  };
  setImmediate(spin);
  const before = turns;
  const coll = await loadCollection(testObject('exec_events'));
  const during = turns - before;
  running = false;
  coll.close();
  assert.ok(during > 0, 'setImmediate callbacks ran while the verifier worked');
});

test('kprobe attach is refused with a reason where the kernel has no kprobes', async (t) => {
  const fdsBefore = openFds();
  const coll = await loadCollection(testObject('probes'));
  try {
    const link = await coll
      .program('on_nanosleep')
      .attach()
      .catch((err: unknown) => err);
    if (!(link instanceof Error)) {
      (link as Link).close();
      t.skip('this kernel has kprobes: nothing to refuse');
      return;
    }
    assert.ok(link instanceof NotSupportedError, String(link));
    assert.match(link.message, /kprobe/);
  } finally {
    coll.close();
  }
  assert.deepEqual(openFds(), fdsBefore);
});

test('fentry is refused with NotSupportedError where the kernel forbids tracing programs', async (t) => {
  const fdsBefore = openFds();
  const result = await loadCollection(testObject('fentry')).catch((err: unknown) => err);
  if (!(result instanceof Error)) {
    (result as { close(): void }).close();
    t.skip('this kernel allows fentry: nothing to refuse');
    return;
  }
  assert.ok(result instanceof NotSupportedError, String(result));
  assert.match(result.message, /on_nanosleep_entry/);
  assert.deepEqual(openFds(), fdsBefore);
});
