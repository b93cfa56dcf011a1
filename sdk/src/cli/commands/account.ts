// `bpfleet whoami` and `bpfleet logout`: who the saved (or given) token belongs to, and forgetting it.
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { connectRegistry } from '../../registry-client/connect.js';
import { credentialsPath, readCredentials, writeCredentials } from '../../registry-client/credentials.js';
import { printResult } from '../output.js';

interface Options {
  registry?: string;
  token?: string;
  admin?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('whoami')
    .description('Ask the registry who the token belongs to: the admin, or a publish token of a namespace')
    .option('--registry <url>', 'registry URL (default: BPFLEET_REGISTRY or the credentials file)')
    .option('--token <token>', 'the token to check (default: the saved one)')
    .option('--admin', 'check the saved admin token instead of the publish token')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  bpfleet whoami\n  bpfleet whoami --admin --json')
    .action(async (o: Options) => {
      const client = await connectRegistry(o, o.admin ? 'admin' : 'publish');
      const who = await client.whoami();
      const result = { registry: client.url, ...who };
      printResult(o, result, () =>
        who.role === 'admin'
          ? `admin of ${client.url}`
          : `publisher of namespace ${who.namespace} at ${client.url} (token ${who.tokenId})`,
      );
    });

  program
    .command('logout')
    .description(
      'Forget the tokens saved for a registry (the registry keeps the token valid: revoke it there)',
    )
    .option('--registry <url>', 'registry URL (default: the saved default)')
    .option('--admin', 'forget only the admin token')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  bpfleet logout\n  bpfleet logout --registry https://edge.example:7878 --admin',
    )
    .action(async (o: Options) => {
      const path = credentialsPath();
      const file = await readCredentials(path);
      const url = (o.registry ?? process.env.BPFLEET_REGISTRY ?? file.registry)?.replace(/\/+$/, '');
      if (!url)
        throw new ConfigError('REGISTRY_UNSET', 'logout: no registry given or saved; give --registry <url>');
      const saved = file.registries[url];
      if (!saved) throw new ConfigError('NOT_LOGGED_IN', `logout: no tokens saved for ${url} in ${path}`);
      const registries = { ...file.registries };
      if (o.admin && saved.token) registries[url] = { token: saved.token };
      else delete registries[url];
      const next = { ...file, registries };
      if (!o.admin && next.registry === url) delete next.registry;
      await writeCredentials(path, next);
      const forgot = o.admin ? 'admin token' : 'tokens';
      printResult(
        o,
        { registry: url, forgot, credentials: path },
        () => `forgot the ${forgot} for ${url} (${path})`,
      );
    });
}
