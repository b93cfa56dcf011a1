// `npm run bench [-- --quick] [-- --only name,name]`: runs every bench/<name>/run.mjs in turn, then prints one
// table of the figures this run wrote (bench/results/<name>[.quick].json carrying this run's id).
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resultPath } from './result-file.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? new Set((args[onlyIndex + 1] ?? '').split(',')) : null;
// Quick mode: fewer repetitions, same figures (names stay stable; only their confidence drops).
const quickEnv = quick ? { BENCH_ITERATIONS: '40', BENCH_ROUNDS: '1', BENCH_QUICK: '1' } : {};
// Each benchmark stamps its JSON with this id: a file from an earlier run, or a benchmark that failed before
// writing, is never printed as if it were this run's.
const runId = randomUUID();

const benches = readdirSync(join(root, 'bench'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'bench', d.name, 'run.mjs')))
  .map((d) => d.name)
  .filter((name) => !only || only.has(name))
  .sort();

const failed = [];
for (const name of benches) {
  process.stderr.write(`\n== bench ${name}${quick ? ' (quick)' : ''}\n`);
  const started = Date.now();
  const run = spawnSync(process.execPath, [join(root, 'bench', name, 'run.mjs')], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, BENCH_QUICK: '', ...quickEnv, BENCH_RUN_ID: runId },
  });
  process.stderr.write(`== ${name}: exit ${run.status} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  if (run.status !== 0) failed.push(name);
}

const rows = [['benchmark', 'figure', 'value', 'baseline', 'ratio', 'goal', 'met']];
for (const name of benches) {
  if (failed.includes(name)) continue;
  const file = resultPath(name, quick);
  const result = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
  if (result?.runId !== runId) {
    failed.push(`${name} (wrote no result in this run)`);
    continue;
  }
  if (result.ok === false) {
    failed.push(`${name} (did not converge / did not reach the measured state)`);
    continue;
  }
  for (const f of result.figures ?? []) {
    if (typeof f.value !== 'number') {
      rows.push([
        result.benchmark ?? name,
        String(f.name),
        'malformed figure: no numeric value',
        '-',
        '-',
        '-',
        '-',
      ]);
      continue;
    }
    rows.push([
      result.benchmark,
      f.name,
      `${Number(f.value.toPrecision(4))} ${f.unit}`,
      f.baseline ? `${Number(f.baseline.value.toPrecision(4))} (${f.baseline.name})` : '-',
      f.ratio == null ? '-' : `${f.ratio.toFixed(2)}x`,
      f.goal ?? '-',
      f.met == null ? '-' : f.met ? 'yes' : 'NO',
    ]);
  }
}
const widths = rows[0].map((_, i) => Math.min(70, Math.max(...rows.map((r) => String(r[i]).length))));
console.log(`\nrun ${runId}${quick ? ' (QUICK: fewer repetitions, lower confidence)' : ''}`);
for (const r of rows)
  console.log(
    r
      .map((c, i) => String(c).slice(0, widths[i]).padEnd(widths[i]))
      .join('  ')
      .trimEnd(),
  );
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
