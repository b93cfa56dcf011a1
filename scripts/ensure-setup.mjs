// Runs scripts/setup.sh before `npm test` / `npm start`, so a fresh clone needs no other step.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.env.BPFLEET_SKIP_SETUP === '1') process.exit(0);
const result = spawnSync('bash', [join(root, 'scripts', 'setup.sh')], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
