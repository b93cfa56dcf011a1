// `npm run bench [-- --quick] [-- --only name,name]`: runs every bench/<name>/run.mjs in turn, then prints one
// table of all figures from bench/results/<name>.json, each next to the baseline measured in the same run.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? new Set((args[onlyIndex + 1] ?? '').split(',')) : null;
// Quick mode: fewer repetitions, same figures (names stay stable; only their confidence drops).
const quickEnv = quick ? { BENCH_ITERATIONS: '40', BENCH_ROUNDS: '1', BENCH_QUICK: '1' } : {};

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
    env: { ...process.env, ...quickEnv },
  });
  process.stderr.write(`== ${name}: exit ${run.status} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  if (run.status !== 0) failed.push(name);
}

const rows = [['benchmark', 'figure', 'value', 'baseline', 'ratio', 'goal', 'met']];
for (const name of benches) {
  const file = join(root, 'bench', 'results', `${name}.json`);
  if (!existsSync(file)) continue;
  const result = JSON.parse(readFileSync(file, 'utf8'));
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
console.log('');
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
