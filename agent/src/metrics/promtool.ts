// Test helper: `promtool check metrics` (Debian's prometheus package) on a scrape; its lints, one per line.
import { spawnSync } from 'node:child_process';

export function promtoolProblems(text: string): string[] {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (run.error) throw run.error;
  if (run.status === 0) return [];
  return `${run.stdout}${run.stderr}`.split('\n').filter((line) => line.trim() !== '');
}
