// BTF bench: per library object, load time and peak memory with the kernel's BTF vs the package's minimized BTF.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeResult } from '../result-file.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const iterations = Math.min(Number(process.env.BENCH_ITERATIONS ?? 30), 30);
const sdkBpf = join(root, 'sdk', 'dist', 'bpf', 'index.js');
const cli = join(root, 'sdk', 'dist', 'cli', 'main.js');
if (!existsSync(sdkBpf)) throw new Error('bench:btf: build the SDK first (npm run build)');
const child = join(here, 'load-child.mjs');
const work = mkdtempSync(join(tmpdir(), 'bpfleet-bench-btf-'));

/** The library program's x86 object and minimized BTF, as `bpfleet build` makes them for its package. */
function build(program) {
  const out = join(work, program);
  execFileSync(
    process.execPath,
    [
      cli,
      'build',
      join(root, 'bpf-programs', program),
      '--arch',
      'x86',
      '--build-dir',
      out,
      '--no-pack',
      '--json',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const dir = join(out, 'bpf', 'x86');
  const object = readdirSync(dir).find((f) => f.endsWith('.bpf.o'));
  const btf = readdirSync(dir).find((f) => f.endsWith('.min.btf'));
  if (!object || !btf) throw new Error(`bench:btf: ${program} built no object or no minimized BTF`);
  return { object: join(dir, object), btf: join(dir, btf) };
}

/** One fresh process per measurement; the package-BTF run hides /sys/kernel/btf as a kernel without BTF would. */
function measure(object, btf) {
  const args = [child, sdkBpf, object, String(iterations), ...(btf ? [btf] : [])];
  const cmd = btf
    ? [
        'unshare',
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mount -t tmpfs bench-no-btf /sys/kernel/btf && exec "$0" "$@"',
        process.execPath,
        ...args,
      ]
    : [process.execPath, ...args];
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench:btf: load of ${object} failed: ${r.stderr}`);
  const m = JSON.parse(r.stdout);
  if (m.kernelBtf === Boolean(btf))
    throw new Error('bench:btf: kernel BTF visibility is not what the run needs');
  return m;
}

const programs = readdirSync(join(root, 'bpf-programs')).filter((p) =>
  existsSync(join(root, 'bpf-programs', p, 'manifest.json')),
);
const rows = [];
const figures = [];
try {
  for (const program of programs.sort()) {
    const { object, btf } = build(program);
    const kernel = measure(object);
    const pkg = measure(object, btf);
    const size = readFileSync(btf).length;
    rows.push([program, size, kernel.medianMs, pkg.medianMs, kernel.firstPeakKb, pkg.firstPeakKb]);
    const ratio = (a, b) => Math.round((a / b) * 100) / 100;
    figures.push({
      name: `${program} load with package min BTF (median)`,
      value: Math.round(pkg.medianMs * 100) / 100,
      unit: 'ms',
      baseline: { name: 'with kernel BTF', value: Math.round(kernel.medianMs * 100) / 100 },
      ratio: ratio(pkg.medianMs, kernel.medianMs),
      goal: '<= 1x',
      met: pkg.medianMs <= kernel.medianMs,
    });
    figures.push({
      name: `${program} first-load peak RSS growth, package min BTF`,
      value: Math.round(pkg.firstPeakKb / 102.4) / 10,
      unit: 'MB',
      baseline: { name: 'with kernel BTF', value: Math.round(kernel.firstPeakKb / 102.4) / 10 },
      ratio: kernel.firstPeakKb > 0 ? ratio(pkg.firstPeakKb, kernel.firstPeakKb) : null,
      goal: '<= 1x',
      met: pkg.firstPeakKb <= kernel.firstPeakKb,
    });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const result = {
  benchmark: 'btf',
  date: new Date().toISOString(),
  machine: { cpus: availableParallelism(), kernel: release(), node: process.version },
  iterations,
  figures,
};
const file = writeResult('btf', result);

console.log(
  `btf benchmark: loadCollection of each library object, ${iterations} loads per mode (median); peak RSS of the first load`,
);
console.log(
  'program'.padEnd(16),
  'min.btf'.padStart(8),
  'kernel ms'.padStart(10),
  'package ms'.padStart(11),
  'kernel MB'.padStart(10),
  'package MB'.padStart(11),
);
for (const [p, size, km, pm, kk, pk] of rows) {
  console.log(
    p.padEnd(16),
    `${size} B`.padStart(8),
    km.toFixed(1).padStart(10),
    pm.toFixed(1).padStart(11),
    (kk / 1024).toFixed(1).padStart(10),
    (pk / 1024).toFixed(1).padStart(11),
  );
}
console.log(`wrote ${file}`);
