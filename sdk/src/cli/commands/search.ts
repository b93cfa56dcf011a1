// `bpfleet search [text]`: packages in the registry, by name or description, newest change first.
import type { Command } from 'commander';
import { connectRegistry } from '../../registry-client/connect.js';
import { printResult } from '../output.js';
import { renderTable, terminalWidth } from '../table.js';

interface Options {
  registry?: string;
  namespace?: string;
  limit: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('search')
    .alias('list')
    .description('List packages, or those whose name or description contains the text')
    .argument('[text]', 'text to find')
    .option('--namespace <ns>', 'only this namespace')
    .option('--limit <n>', 'at most this many', '50')
    .option('--registry <url>', 'registry URL (default: BPFLEET_REGISTRY or the credentials file)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  bpfleet search\n  bpfleet search firewall\n  bpfleet list --namespace acme --json',
    )
    .action(async (text: string | undefined, o: Options) => {
      const client = await connectRegistry(o, 'read');
      const { packages } = await client.listPackages({
        ...(text ? { q: text } : {}),
        ...(o.namespace ? { namespace: o.namespace } : {}),
        limit: Number(o.limit),
      });
      printResult(o, packages, () =>
        packages.length === 0
          ? `(no packages${text ? ` matching ${JSON.stringify(text)}` : ''})`
          : renderTable(
              ['PACKAGE', 'LATEST', 'VERSIONS', 'UPDATED', 'DESCRIPTION'],
              packages.map((p) => [
                p.package,
                p.latest ?? '-',
                String(p.versions),
                p.updatedAt.slice(0, 10),
                p.description,
              ]),
              { width: terminalWidth() },
            ),
      );
    });
}
