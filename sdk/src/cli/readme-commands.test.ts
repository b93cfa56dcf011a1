// Every `bpfleet …` command the README shows names commands and options the CLI has: checked against the command
// tree itself, so a renamed option or a removed command fails here instead of on a new user's machine.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Command, Command as Program } from 'commander';
import { registerCommands } from './commands/index.js';

const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

/** Command lines inside the README's code blocks, continuation lines joined, comments dropped. */
function readmeCommands(text: string): Array<{ line: number; words: string[] }> {
  const out: Array<{ line: number; words: string[] }> = [];
  let inBlock = false;
  let pending: { line: number; text: string } | undefined;
  text.split('\n').forEach((raw, i) => {
    if (raw.trimStart().startsWith('```')) {
      inBlock = !inBlock;
      return;
    }
    if (!inBlock) return;
    const line = raw.replace(/\s+#\s.*$/, '').trim();
    const current = pending
      ? { line: pending.line, text: `${pending.text} ${line}` }
      : { line: i + 1, text: line };
    if (current.text.endsWith('\\')) {
      pending = { line: current.line, text: current.text.slice(0, -1).trim() };
      return;
    }
    pending = undefined;
    const m = /^(?:\$ )?(?:npx --no-install )?bpfleet (.*)$/.exec(current.text);
    if (m) out.push({ line: current.line, words: m[1]!.match(/"[^"]*"|'[^']*'|\S+/g) ?? [] });
  });
  return out;
}

/** What is wrong with one command line, or undefined. */
function check(program: Command, words: string[]): string | undefined {
  let command = program;
  let argumentsSeen = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word.startsWith('-')) {
      const flag = word.split('=')[0]!;
      if (flag === '--help' || flag === '-h') continue;
      const option = command.options.find((o) => o.long === flag || o.short === flag);
      if (!option) return `${command.name()}: no option ${flag}`;
      if ((option.required || option.optional) && !word.includes('=')) i++;
      continue;
    }
    const sub = argumentsSeen
      ? undefined
      : command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub) command = sub;
    else if (command.commands.length > 0 && command.registeredArguments.length === 0)
      return `${command.name()}: no command ${word}`;
    else argumentsSeen = true;
  }
  return undefined;
}

test('every bpfleet command in the README exists with the options it shows', () => {
  const program = new Program('bpfleet');
  registerCommands(program);
  const commands = readmeCommands(readFileSync(README, 'utf8'));
  assert.ok(commands.length > 30, `found ${commands.length} commands in the README`);
  const problems = commands.flatMap(({ line, words }) => {
    const problem = check(program, words);
    return problem ? [`README.md:${line}: bpfleet ${words.join(' ')}: ${problem}`] : [];
  });
  assert.deepEqual(problems, []);
});

test('the checker itself catches a wrong option and a wrong command', () => {
  const program = new Program('bpfleet');
  registerCommands(program);
  assert.match(
    check(program, ['rollout', 'start', 'g', 'a/b@1', '--wave', '5m']) ?? '',
    /start: no option --wave/,
  );
  assert.match(check(program, ['fleets', 'status']) ?? '', /bpfleet: no command fleets/);
  assert.equal(check(program, ['rollout', 'start', 'g', 'a/b@1', '--wave-timeout', '5m']), undefined);
});
