// Events benchmark: ring buffer records drained per CPU-second by the agent's drain (worker thread, decode, sinks)
// next to a C consumer on libbpf's ring_buffer__poll, in the same run against the same producer (an XDP program
// run by BPF_PROG_TEST_RUN as fast as it goes); then the agent's CPU and RSS at a paced 10,000 events/s.
// Run: node bench/agent/events.mjs (needs root, clang-built build/bpf/event_burst.bpf.o, cc and libbpf-dev).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { loadCollection, testRun } from '../../sdk/dist/bpf/index.js';
import { isQuick, writeResult } from '../result-file.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const SECONDS = isQuick() ? 3 : 8;
const PACED_RATE = 10_000;
const FRAME = new Uint8Array(64);

const work = mkdtempSync(join(tmpdir(), 'evs-bench-'));
const consumerBin = join(work, 'ringbuf-consumer');
execFileSync('cc', ['-O2', '-o', consumerBin, join(here, 'ringbuf-consumer.c'), '-lbpf']);
const pins = `/sys/fs/bpf/evs-bench-${process.pid}`;
const ringPath = join(pins, 'burst_events');
const lostPath = join(pins, 'burst_lost');
let coll;

/** A fresh program and ring per round: records a slow round left behind never count for the next one. */
async function loadProgram() {
  coll?.close();
  rmSync(pins, { recursive: true, force: true });
  mkdirSync(pins);
  coll = await loadCollection(readFileSync(join(root, 'build', 'bpf', 'event_burst.bpf.o')));
  coll.map('burst_events').pin(ringPath);
  coll.map('burst_lost').pin(lostPath);
}

/** Starts a consumer; resolves its figures after it printed them (it prints "ready" first). */
function consumer(cmd, args) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let readyResolve;
  const ready = new Promise((r) => {
    readyResolve = r;
  });
  child.stdout.on('data', (d) => {
    out += d;
    if (out.includes('ready\n')) readyResolve();
  });
  const done = new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) reject(new Error(`${cmd} exited ${code}: ${out}`));
      else resolve({ ...JSON.parse(line), pid: child.pid });
    });
  });
  return { ready, done };
}

/** Runs the program until `until`; `rate` per second when given, else as fast as one core runs it. */
async function produce(until, rate) {
  let emitted = 0;
  const started = performance.now();
  while (performance.now() < until) {
    const due = rate ? Math.floor(((performance.now() - started) / 1000) * rate) - emitted : 2000;
    if (due > 0) {
      const n = Math.min(due, 2000);
      testRun(coll.program('emit_burst'), FRAME, { repeat: n });
      emitted += n;
    }
    if (rate) await new Promise((r) => setTimeout(r, 5));
    else await yieldToLoop();
  }
  return emitted;
}

async function round(name, cmd, args, rate) {
  await loadProgram();
  const c = consumer(cmd, args);
  await c.ready;
  const emitted = await produce(performance.now() + SECONDS * 1000, rate);
  const r = await c.done;
  const perCpuSecond = r.records / Math.max(r.cpuSeconds, 1e-6);
  process.stderr.write(
    `${name}: ${r.records} records in ${SECONDS} s (${emitted} emitted), ${r.cpuSeconds.toFixed(2)} CPU-s → ${Math.round(perCpuSecond)} records per CPU-second\n`,
  );
  return { ...r, emitted, perCpuSecond };
}

try {
  const agentArgs = [join(here, 'events-consumer.mjs'), ringPath, lostPath, String(SECONDS)];
  const c = await round('C ring_buffer__poll', consumerBin, [ringPath, String(SECONDS + 1)]);
  const agent = await round('agent drain', process.execPath, agentArgs);
  const paced = await round(`agent at ${PACED_RATE}/s`, process.execPath, agentArgs, PACED_RATE);
  const result = {
    seconds: SECONDS,
    c: { records: c.records, cpuSeconds: c.cpuSeconds, perCpuSecond: Math.round(c.perCpuSecond) },
    agent: {
      records: agent.records,
      cpuSeconds: agent.cpuSeconds,
      perCpuSecond: Math.round(agent.perCpuSecond),
    },
    agentVsC: Number((agent.perCpuSecond / c.perCpuSecond).toFixed(3)),
    paced: {
      rate: PACED_RATE,
      delivered: paced.records,
      emitted: paced.emitted,
      cpuPercent: Number(((paced.cpuSeconds / SECONDS) * 100).toFixed(1)),
      rssMaxMiB: Number((paced.rssMaxBytes / 2 ** 20).toFixed(1)),
    },
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(`wrote ${writeResult('events', result)}`);
} finally {
  coll?.close();
  rmSync(pins, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
