// Builds the bundled eBPF objects: the loader's test programs, then every bpf-programs/<program> through `bpfleet build`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'sdk', 'dist', 'cli', 'main.js');
const programs = join(root, 'bpf-programs');
let failed = 0;
const testdata = spawnSync(process.execPath, [join(root, 'sdk', 'scripts', 'build-testdata.mjs')], {
  stdio: 'inherit',
});
if (testdata.status !== 0) failed++;
for (const name of readdirSync(programs).sort()) {
  const dir = join(programs, name);
  if (!existsSync(join(dir, 'manifest.json'))) continue;
  const r = spawnSync(process.execPath, [cli, 'build', dir], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
