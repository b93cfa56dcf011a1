// The command table: one file per command, each exporting `register(program)`.
import type { Command } from 'commander';
import { register as registerChannel } from './channel.js';
import { register as registerInfo } from './info.js';
import { register as registerKeys } from './keys.js';
import { register as registerLogin } from './login.js';
import { register as registerPublish } from './publish.js';
import { register as registerYank } from './yank.js';

const registrations: Array<(program: Command) => void> = [
  registerKeys,
  registerPublish,
  registerInfo,
  registerChannel,
  registerYank,
  registerLogin,
];

export function registerCommands(program: Command): void {
  for (const register of registrations) register(program);
}
