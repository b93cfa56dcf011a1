// The command table: one file per command, each exporting `register(program)`.
import type { Command } from 'commander';
import { register as registerKeys } from './keys.js';

const registrations: Array<(program: Command) => void> = [registerKeys];

export function registerCommands(program: Command): void {
  for (const register of registrations) register(program);
}
