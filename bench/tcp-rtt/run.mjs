// ns per TCP round trip and per segment sent, with tcp-rtt (sockops) attached through the SDK loader to the client's
// cgroup and with no program, rounds interleaved; a C client and server talk over a veth pair between two namespaces.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { writeResult } from '../result-file.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const quick = Boolean(process.env.BENCH_QUICK);
const ROUND_TRIPS = Number(process.env.BENCH_ROUND_TRIPS ?? (quick ? 5_000 : 50_000));
const STREAM_MS = Number(process.env.BENCH_STREAM_MS ?? (quick ? 250 : 1000));
// At least 3 rounds even when quick (shorter ones then): one round on a shared machine is noise, not a median.
const ROUNDS = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 5));
const MESSAGE = 64;
const { buildProgram } = await import(join(root, 'sdk/dist/compile/build-program.js'));
const { findToolchain } = await import(join(root, 'sdk/dist/compile/toolchain.js'));
const { runTool } = await import(join(root, 'sdk/dist/compile/run-tool.js'));
const { isGplCompatible, parseManifest } = await import(join(root, 'sdk/dist/manifest/index.js'));
const { loadCollection, readU64, u64 } = await import(join(root, 'sdk/dist/bpf/index.js'));

// 198.18.244.0/30: used by no test, demo or other benchmark.
const CLIENT = '198.18.244.1';
const SERVER = '198.18.244.2';
const PORT = '5201';
const tag = `${process.pid}`;
const clientNs = `bf-bench-${tag}-tcpc`;
const serverNs = `bf-bench-${tag}-tcps`;
const inNs = (ns, ...args) =>
  execFileSync('nsenter', [`--net=/run/netns/${ns}`, ...args], { encoding: 'utf8' });

/** Two namespaces joined by a veth pair (MTU 1500, so a stream is many segments and ACKs). */
function createNetwork() {
  execFileSync('ip', ['netns', 'add', clientNs]);
  execFileSync('ip', ['netns', 'add', serverNs]);
  execFileSync('ip', [
    '-n',
    clientNs,
    'link',
    'add',
    'tr-c',
    'type',
    'veth',
    'peer',
    'name',
    'tr-s',
    'netns',
    serverNs,
  ]);
  inNs(clientNs, 'ip', 'addr', 'add', `${CLIENT}/30`, 'dev', 'tr-c');
  inNs(serverNs, 'ip', 'addr', 'add', `${SERVER}/30`, 'dev', 'tr-s');
  for (const [ns, iface] of [
    [clientNs, 'tr-c'],
    [serverNs, 'tr-s'],
    [clientNs, 'lo'],
    [serverNs, 'lo'],
  ])
    inNs(ns, 'ip', 'link', 'set', iface, 'up');
}

/** Starts the server in its namespace (nsenter execs it: the child's pid is the server's) once it listens. */
async function startServer(binary) {
  const child = spawn('nsenter', [`--net=/run/netns/${serverNs}`, binary, 'server', SERVER, PORT], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next();
  if (first.value !== 'ready') throw new Error(`tcp server did not start (exit ${child.exitCode})`);
  return child;
}

function client(binary, cgroup, ...args) {
  const r = spawnSync(
    'nsenter',
    [`--net=/run/netns/${clientNs}`, binary, args[0], cgroup, SERVER, PORT, ...args.slice(1)],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`tcp client ${args[0]} failed: ${r.stderr}`);
  return r.stdout.trim().split(' ').map(Number);
}

const work = mkdtempSync(join(tmpdir(), 'bpfleet-tcp-rtt-'));
const cgroup = join('/sys/fs/cgroup/unified', `bpfleet-bench-${randomBytes(6).toString('hex')}`);
let server = null;
let coll = null;
/** Removes everything this run made in the kernel and on disk; safe to call twice. */
function cleanup() {
  server?.kill();
  server = null;
  coll?.close();
  coll = null;
  spawnSync('ip', ['netns', 'del', clientNs]);
  spawnSync('ip', ['netns', 'del', serverNs]);
  try {
    rmdirSync(cgroup);
  } catch {}
  rmSync(work, { recursive: true, force: true });
}
// Ctrl-C or a kill skips `finally`: clean up all the same.
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => {
    cleanup();
    process.exit(130);
  });
try {
  const dir = join(root, 'bpf-programs/tcp-rtt');
  const manifest = parseManifest(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const built = await buildProgram(runTool, await findToolchain(runTool), {
    dir,
    manifest,
    isGplCompatible,
    arches: [process.arch === 'arm64' ? 'arm64' : 'x86'],
    buildDir: join(work, 'build'),
  });
  coll = await loadCollection(new Uint8Array(readFileSync(built.objects[0].path)));
  const binary = join(work, 'tcp-pingpong');
  execFileSync('gcc', ['-O2', '-o', binary, join(here, 'tcp-pingpong.c')]);
  createNetwork();
  mkdirSync(cgroup);
  server = await startServer(binary);

  const variants = [
    { key: 'none', name: 'no program (baseline)', attach: false },
    { key: 'tcpRtt', name: "tcp-rtt on the client's cgroup", attach: true },
  ];
  const samples = Object.fromEntries(variants.map((v) => [v.key, { rr: [], stream: [] }]));
  // One untimed pass first (ARP, the binary's pages, the server's first wake-ups); then the order flips every round
  // so that neither variant always runs first.
  client(binary, cgroup, 'rr', '1000', String(MESSAGE));
  client(binary, cgroup, 'stream', '100');
  let connections = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of round % 2 === 0 ? variants : [...variants].reverse()) {
      const link = v.attach ? await coll.program('tcp_rtt').attach({ kind: 'cgroup', path: cgroup }) : null;
      try {
        samples[v.key].rr.push(client(binary, cgroup, 'rr', String(ROUND_TRIPS), String(MESSAGE))[0]);
        samples[v.key].stream.push(client(binary, cgroup, 'stream', String(STREAM_MS))[0]);
        if (v.attach) connections += 2;
      } finally {
        link?.close();
      }
    }
  }

  // The program must have seen every connection it was attached for, and RTT samples from them.
  const totals = coll.map('rtt_by_app').lookupPerCpu(u64(BigInt(statSync(cgroup).ino))) ?? [];
  const counted = {
    connections: Number(totals.reduce((s, v) => s + readU64(v, 0), 0n)),
    samples: Number(totals.reduce((s, v) => s + readU64(v, 8), 0n)),
  };
  if (counted.connections !== connections || counted.samples === 0)
    throw new Error(`tcp-rtt counted ${JSON.stringify(counted)} for ${connections} connections`);

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const figures = [];
  for (const [kind, label, unit] of [
    ['rr', `${MESSAGE}-byte request/response`, 'ns/round trip'],
    ['stream', 'stream, 64 KiB writes', 'ns/segment'],
  ]) {
    const base = median(samples.none[kind]);
    for (const v of variants) {
      const value = median(samples[v.key][kind]);
      const isBase = v.key === 'none';
      figures.push({
        name: `${label}, ${v.name}`,
        value,
        unit,
        baseline: isBase ? null : { name: `${label}, ${variants[0].name}`, value: base },
        ratio: isBase ? null : Number((value / base).toFixed(2)),
        goal: null,
        met: null,
        overBaseline: Number((value - base).toFixed(1)),
        // Every round's figure, in round order, so the spread (noise from other load) shows beside the median.
        rounds: samples[v.key][kind],
      });
    }
  }
  const result = {
    benchmark: 'tcp-rtt',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, kernel: release(), node: process.version },
    settings: {
      roundTrips: ROUND_TRIPS,
      streamMs: STREAM_MS,
      rounds: ROUNDS,
      statistic: 'median of rounds',
      network: 'veth pair between two namespaces, MTU 1500; only the client is in the cgroup tcp-rtt watches',
      segment: 'tcpi_segs_out of the client (MSS-sized)',
    },
    figures,
    counted,
  };
  for (const f of figures)
    console.log(`${f.name.padEnd(64)}${String(f.value).padEnd(10)}${f.unit.padEnd(16)}+${f.overBaseline}`);
  console.log(`tcp-rtt counted ${counted.connections} connections, ${counted.samples} RTT samples`);
  console.log(`wrote ${writeResult('tcp-rtt', result)}`);
} finally {
  cleanup();
}
