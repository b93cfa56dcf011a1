// Where a benchmark's result JSON goes and what marks it: the run it belongs to, quick or full, converged or not.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const isQuick = () => process.env.BENCH_QUICK === '1';

/** Quick results go to <name>.quick.json so that a quick run never stands in for a full one. */
export const resultPath = (name, quick = isQuick()) =>
  join(root, 'bench', 'results', `${name}${quick ? '.quick' : ''}.json`);

/**
 * Writes `result` with the run id that `npm run bench` hands its children (BENCH_RUN_ID), the quick flag and
 * `ok` (false when the benchmark did not reach the state it measures); returns the path relative to the repo.
 */
export function writeResult(name, result, { ok = true } = {}) {
  const path = resultPath(name);
  const marked = { ...result, runId: process.env.BENCH_RUN_ID ?? null, quick: isQuick(), ok };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(marked, null, 2)}\n`);
  return path.slice(root.length + 1);
}
