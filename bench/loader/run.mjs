// Loader benchmark: open+load+attach of an XDP program via the SDK vs a C program on libbpf (the floor).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { writeResult } from '../result-file.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const iterations = Number(process.env.BENCH_ITERATIONS ?? 200);
const goal = 1.2;

const sdkBpf = join(root, 'sdk', 'dist', 'bpf', 'index.js');
if (!existsSync(sdkBpf)) throw new Error('bench:loader: build the SDK first (npm run build)');
execFileSync(process.execPath, [join(root, 'sdk', 'scripts', 'build-testdata.mjs')], { stdio: 'inherit' });
const obj = join(root, 'build', 'bpf', 'xdp_counter.bpf.o');
const floor = join(root, 'build', 'bench', 'loader-floor');
mkdirSync(dirname(floor), { recursive: true });
execFileSync('gcc', ['-O2', '-o', floor, join(here, 'floor.c'), '-lbpf']);

const ns = `bf-loader-bench-${process.pid}`;
const iface = 'bfbench0';
const inNs = (cmd, args) => {
  const r = spawnSync('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  return r.stdout;
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

// Without these, glibc hands libbpf's multi-megabyte vmlinux BTF buffers back to the kernel after every
// load and faults them in again on the next, which costs the single-threaded C floor ~10 ms per load
// (libbpf called from a worker thread uses an arena that keeps them). Same tunables for every contender.
const env = {
  ...process.env,
  GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=268435456:glibc.malloc.mmap_threshold=268435456',
};

/** A contender process that runs one iteration per line it reads and answers with the microseconds. */
function contender(cmd, args) {
  const child = spawn('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env,
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async once() {
      child.stdin.write('go\n');
      const { value, done } = await lines.next();
      if (done) throw new Error(`${cmd} stopped`);
      return Number(value);
    },
    stop: () => child.stdin.end(),
  };
}

execFileSync('ip', ['netns', 'add', ns]);
const samples = { floor: [], bytes: [], spec: [] };
try {
  inNs('ip', ['link', 'add', iface, 'type', 'veth', 'peer', 'name', `${iface}p`]);
  inNs('ip', ['link', 'set', iface, 'up']);
  const measure = join(here, 'measure.mjs');
  const runners = {
    floor: contender(floor, [obj, iface]),
    bytes: contender(process.execPath, [measure, sdkBpf, obj, iface, 'bytes']),
    spec: contender(process.execPath, [measure, sdkBpf, obj, iface, 'spec']),
  };
  // Warm up, then alternate iteration by iteration so machine noise hits every contender alike.
  for (let i = 0; i < 5; i++) for (const r of Object.values(runners)) await r.once();
  for (let i = 0; i < iterations; i++) {
    for (const [name, r] of Object.entries(runners)) samples[name].push(await r.once());
  }
  for (const r of Object.values(runners)) r.stop();
} finally {
  spawnSync('ip', ['netns', 'del', ns]);
}

const floorUs = median(samples.floor);
const figure = (name, values) => {
  const value = median(values);
  const ratio = Math.round((value / floorUs) * 100) / 100;
  const baseline = { name: 'C + libbpf (floor)', value: floorUs };
  return { name, value, unit: 'us', baseline, ratio, goal: `<= ${goal}x`, met: ratio <= goal };
};
const figures = [
  {
    name: 'C + libbpf open_mem+load+attach (median)',
    value: floorUs,
    unit: 'us',
    baseline: null,
    ratio: null,
    goal: null,
    met: null,
  },
  figure('sdk loadCollection(bytes)+attach (median)', samples.bytes),
  figure('sdk loadCollection(spec)+attach (median)', samples.spec),
];
const result = {
  benchmark: 'loader',
  date: new Date().toISOString(),
  machine: { cpus: availableParallelism(), kernel: release(), node: process.version },
  figures,
};
writeResult('loader', result);

console.log(`loader benchmark: XDP open+load+attach, ${iterations} alternating iterations each, medians`);
console.log('figure'.padEnd(46), 'value'.padStart(12), 'ratio'.padStart(7), '  goal');
for (const f of figures) {
  const ratio = f.ratio === null ? '-' : `${f.ratio}x`;
  const verdict = f.met === null ? '' : f.met ? ' met' : ' NOT met';
  console.log(
    f.name.padEnd(46),
    `${f.value} us`.padStart(12),
    ratio.padStart(7),
    ` ${f.goal ?? ''}${verdict}`,
  );
}
