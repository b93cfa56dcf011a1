// `bpfleet channel set <pkg> <channel> <version> --key` (a signed move) and `bpfleet channel list <pkg>`.
import type { Command } from 'commander';
import { connectRegistry } from '../../registry-client/connect.js';
import { parsePackageRef } from '../../registry-client/package-ref.js';
import { moveChannel } from '../../registry-client/signed-channels.js';
import { readPrivateKey } from '../../trust/key-files.js';
import { printResult } from '../output.js';

interface ChannelOptions {
  key?: string;
  rollbackReason?: string;
  registry?: string;
  token?: string;
  json?: boolean;
}

const channelsText = (channels: Record<string, string>) =>
  Object.entries(channels)
    .map(([ch, v]) => `${ch.padEnd(12)} ${v}`)
    .join('\n') || '(no channels)';

export function register(program: Command): void {
  const channel = program.command('channel').description('Point channels (stable, canary, …) at versions');
  channel
    .command('set')
    .description(
      'Point a channel at a version: a move signed with a publisher key of the namespace (the token only uploads it)',
    )
    .argument('<package>', 'namespace/name')
    .argument('<channel>', 'channel name')
    .argument('<version>', 'version to point at')
    .requiredOption('--key <file>', 'the publisher private key')
    .option('--rollback-reason <text>', 'sign a move to a lower version than the channel has, saying why')
    .option('--registry <url>', 'registry URL')
    .option('--token <token>', 'publish token')
    .option('--json', 'print the result as JSON')
    .action(async (ref: string, name: string, version: string, options: ChannelOptions) => {
      const pkg = parsePackageRef(ref);
      const key = await readPrivateKey(options.key!);
      const client = await connectRegistry(options, 'publish');
      const channels = await moveChannel(client, key, pkg, name, version, options.rollbackReason);
      printResult(options, { package: `${pkg.namespace}/${pkg.name}`, channels }, () =>
        channelsText(channels),
      );
    });
  channel
    .command('list')
    .description('Show the channels of a package')
    .argument('<package>', 'namespace/name')
    .option('--registry <url>', 'registry URL')
    .option('--json', 'print the result as JSON')
    .action(async (ref: string, options: ChannelOptions) => {
      const pkg = parsePackageRef(ref);
      const channels = await (await connectRegistry(options)).listChannels(pkg.namespace, pkg.name);
      printResult(options, { package: `${pkg.namespace}/${pkg.name}`, channels }, () =>
        channelsText(channels),
      );
    });
}
