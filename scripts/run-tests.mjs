// Runs the compiled tests of the named workspaces (all when none is named) with node's test runner.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const workspaces =
  process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['sdk', 'registry', 'agent', 'e2e'];
const dirs = workspaces.map((w) => join(root, w, 'dist')).filter((d) => existsSync(d));
// The long reliability suites (BPFLEET_LONG=1, `npm run test:long`) run single tests for many minutes: the 10-minute per-test timeout is for `npm test`.
const long = process.env.BPFLEET_LONG === '1' || process.env.BPFLEET_LONG === 'true';
const timeout = long ? 12 * 3600 * 1000 : 600000;
const args = ['--test', '--test-concurrency=2', `--test-timeout=${timeout}`, ...dirs];
const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
