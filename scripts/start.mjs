// `npm start`: the platform's main job on embedded defaults — the compiled quickstart (e2e/src/quickstart/).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(
  root,
  'e2e',
  'dist',
  'quickstart',
  process.argv[2] === 'demo' ? 'demo-main.js' : 'start-main.js',
);
if (!existsSync(entry)) {
  console.error(`bpfleet: ${entry} is missing: build first (npm run build, or scripts/setup.sh)`);
  process.exit(1);
}
if (process.argv[2] === 'demo') process.argv.splice(2, 1);
await import(pathToFileURL(entry).href);
