// `bpfleet yank <ns/name@version> [--reason] [--undo]`: marks a version yanked (never deletes it).
import type { Command } from 'commander';
import { RegistryError } from '../../errors.js';
import { connectRegistry } from '../../registry-client/connect.js';
import { parsePackageRef } from '../../registry-client/package-ref.js';
import { printResult } from '../output.js';

interface YankOptions {
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
    .option('--reason <text>', 'why, shown to users')
    .option('--undo', 'clear the yanked mark')
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
      const client = await connectRegistry(options, 'publish');
      const result = options.undo
        ? await client.unyank(pkg.namespace, pkg.name, pkg.version)
        : await client.yank(pkg.namespace, pkg.name, pkg.version, options.reason);
      printResult(options, result, () =>
        result.yanked ? `yanked ${ref}: ${result.yankReason ?? ''}` : `${ref} is no longer yanked`,
      );
    });
}
