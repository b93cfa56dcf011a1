#!/usr/bin/env node
// The bpfleet CLI entry: builds the command tree, runs it, maps failures to exit codes (0 ok, 1 failure, 2 usage).
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands/index.js';
import { EXIT_FAILURE, EXIT_USAGE, reportError } from './output.js';

export function createProgram(): Command {
  const program = new Command('bpfleet')
    .description('Build, sign, publish and operate eBPF micro-programs for a fleet of devices')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    reportError(err, argv.includes('--json'));
    return EXIT_FAILURE;
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
