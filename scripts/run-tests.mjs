// Runs the compiled tests of the named workspaces (all when none is named) with node's test runner.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const workspaces =
  process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['sdk', 'registry', 'agent', 'e2e'];
const dirs = workspaces.map((w) => join(root, w, 'dist')).filter((d) => existsSync(d));
const args = ['--test', '--test-concurrency=2', '--test-timeout=600000', ...dirs];
const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
