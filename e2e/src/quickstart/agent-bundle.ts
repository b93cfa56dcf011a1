// The agent's one-file bundle, rebuilt from agent/dist once per process before an agent starts: after a bare
// `tsc --build` (no `npm run build`) the launcher would otherwise run a bundle of older code.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './workspace-paths.js';

let bundled = false;

export function bundleAgent(): void {
  if (bundled) return;
  const script = join(REPO_ROOT, 'agent', 'scripts', 'bundle.mjs');
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bundle the agent (${script}): ${r.stderr || r.error?.message}`);
  bundled = true;
}
