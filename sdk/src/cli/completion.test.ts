// Completion scripts judged by the shells themselves: bash completes from the generated script.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('./main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'bpfleet-completion-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const script = (shell: string) =>
  execFileSync(process.execPath, [CLI, 'completion', shell], { encoding: 'utf8' });

/** What bash offers after `line` (a trailing space means a new, empty word). */
function complete(line: string): string[] {
  const file = join(dir, 'bpfleet.bash');
  writeFileSync(file, script('bash'));
  const out = execFileSync(
    'bash',
    [
      '-c',
      `source ${file}; read -ra COMP_WORDS <<< "$1"; [[ $1 == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _bpfleet; printf '%s\\n' "\${COMPREPLY[@]}"`,
      'bash',
      line,
    ],
    { encoding: 'utf8' },
  );
  return out.split('\n').filter(Boolean).sort();
}

test('bash completes commands, subcommands and the options of the command named so far', () => {
  assert.deepEqual(complete('bpfleet roll'), ['rollout']);
  assert.deepEqual(complete('bpfleet rollout st'), ['start', 'status']);
  assert.deepEqual(complete('bpfleet rollout start --wa'), ['--wave-timeout', '--waves']);
  assert.deepEqual(complete('bpfleet --json rollout status --wat'), ['--watch']);
  assert.ok(complete('bpfleet ').includes('completion'));
  assert.ok(complete('bpfleet namespace ').includes('revoke-token'));
});

test('zsh reuses the bash function; fish lists each command under its parent', () => {
  assert.match(
    script('zsh'),
    /^# bpfleet completion for zsh[^\n]*\nautoload -U \+X bashcompinit && bashcompinit\n/,
  );
  const fish = script('fish');
  assert.match(fish, /complete -c bpfleet -f -n '__fish_use_subcommand' -a 'rollout' -d '/);
  assert.match(fish, /complete -c bpfleet -f -n '__fish_seen_subcommand_from rollout' -a 'status' -d '/);
  assert.match(fish, /complete -c bpfleet -n '__fish_seen_subcommand_from start' -l waves -d '/);
});

test('an unknown shell is a usage error', () => {
  assert.throws(
    () => execFileSync(process.execPath, [CLI, 'completion', 'tcsh'], { stdio: 'pipe' }),
    (e: { status: number; stderr: Buffer }) =>
      e.status === 2 && /tcsh: give bash, zsh or fish/.test(String(e.stderr)),
  );
});
