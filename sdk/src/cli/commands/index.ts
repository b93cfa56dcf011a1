// The command table: one file per command, each exporting `register(program)`.
import type { Command } from 'commander';
import { describeSigner } from '../package-file.js';
import { register as registerAccount } from './account.js';
import { register as registerBuild } from './build.js';
import { register as registerChannel } from './channel.js';
import { register as registerCompletion } from './completion.js';
import { register as registerFleet } from './fleet.js';
import { register as registerInfo } from './info.js';
import { register as registerInit } from './init.js';
import { register as registerInspect } from './inspect.js';
import { register as registerKeys } from './keys.js';
import { register as registerLogin } from './login.js';
import { register as registerNamespace } from './namespace.js';
import { register as registerPack } from './pack.js';
import { register as registerPolicy } from './policy.js';
import { register as registerPublish } from './publish.js';
import { register as registerRollout } from './rollout.js';
import { register as registerRoot } from './root.js';
import { register as registerSearch } from './search.js';
import { register as registerSign } from './sign.js';
import { register as registerTest } from './test.js';
import { register as registerVerify } from './verify.js';
import { register as registerYank } from './yank.js';

const registrations: Array<(program: Command) => void> = [
  registerKeys,
  registerPack,
  registerSign,
  registerVerify,
  (program) => registerInspect(program, { inspectSigner: describeSigner }),
  registerInit,
  registerBuild,
  registerTest,
  registerPublish,
  registerInfo,
  registerSearch,
  registerChannel,
  registerYank,
  registerLogin,
  registerAccount,
  registerNamespace,
  registerPolicy,
  registerFleet,
  registerRollout,
  registerRoot,
  registerCompletion,
];

export function registerCommands(program: Command): void {
  for (const register of registrations) register(program);
}
