// The command table: one file per command, each exporting `register(program)`.
import type { Command } from 'commander';

const registrations: Array<(program: Command) => void> = [];

export function registerCommands(program: Command): void {
  for (const register of registrations) register(program);
}
