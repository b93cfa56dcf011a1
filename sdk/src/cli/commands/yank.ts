// `bpfleet yank <ns/name@version> --key [--reason] [--undo]` (signed), or `--emergency` with the admin token.
import type { Command } from 'commander';
import { RegistryError } from '../../errors.js';
import { connectRegistry } from '../../registry-client/connect.js';
import { parsePackageRef } from '../../registry-client/package-ref.js';
import { setYankSigned } from '../../registry-client/signed-channels.js';
import { readPrivateKey } from '../../trust/key-files.js';
import { printResult } from '../output.js';

interface YankOptions {
  key?: string;
  emergency?: boolean;
  reason?: string;
  undo?: boolean;
  registry?: string;
  token?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('yank')
    .description('Mark a version yanked: agents stop choosing it; it stays downloadable by digest')
    .argument('<package>', 'namespace/name@version')
    .option('--key <file>', 'the publisher private key that signs the yank or unyank')
    .option(
      '--emergency',
      'with the admin token and no key: stop distribution now (cannot be undone without a key)',
    )
    .option('--reason <text>', 'why, shown to users')
    .option('--undo', 'clear the yanked mark (signed with --key)')
    .option('--registry <url>', 'registry URL')
    .option('--token <token>', 'publish token')
    .option('--json', 'print the result as JSON')
    .action(async (ref: string, options: YankOptions) => {
      const pkg = parsePackageRef(ref);
      if (!pkg.version)
        throw new RegistryError(
          'INVALID_PACKAGE_REF',
          `yank ${ref}: name a version (namespace/name@version)`,
        );
      if (!options.key && !(options.emergency && !options.undo))
        throw new RegistryError(
          'KEY_REQUIRED',
          `yank ${ref}: sign with --key (a publisher key); only --emergency with the admin token yanks without one`,
        );
      const key = options.key ? await readPrivateKey(options.key) : undefined;
      const client = await connectRegistry(options, key ? 'publish' : 'admin');
      const result = key
        ? await setYankSigned(client, key, pkg, pkg.version, { undo: options.undo, reason: options.reason })
        : await client.yank(pkg.namespace, pkg.name, pkg.version, { reason: options.reason });
      printResult(options, result, () =>
        result.yanked ? `yanked ${ref}: ${result.yankReason ?? ''}` : `${ref} is no longer yanked`,
      );
    });
}
