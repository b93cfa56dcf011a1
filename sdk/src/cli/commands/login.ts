// `bpfleet login --registry <url> --token <token> [--admin]`: saves a token in the credentials file (0600).
import type { Command } from 'commander';
import { BpfleetError, ConfigError } from '../../errors.js';
import { credentialsPath, readCredentials, writeCredentials } from '../../registry-client/credentials.js';
import { RegistryClient } from '../../registry-client/registry-client.js';
import { printResult } from '../output.js';

interface LoginOptions {
  registry?: string;
  token?: string;
  admin?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('login')
    .description('Save a registry URL and token in ~/.config/bpfleet/credentials.json (mode 0600)')
    .option('--registry <url>', 'registry URL (becomes the default)')
    .option('--token <token>', 'publish token (or the admin token with --admin); default: BPFLEET_TOKEN')
    .option('--admin', 'store it as the admin token')
    .option('--json', 'print the result as JSON')
    .action(async (options: LoginOptions) => {
      const path = credentialsPath();
      const file = await readCredentials(path);
      const url = (options.registry ?? process.env.BPFLEET_REGISTRY ?? file.registry)?.replace(/\/+$/, '');
      if (!url) throw new ConfigError('REGISTRY_UNSET', 'login: give --registry <url>');
      const token = options.token ?? process.env.BPFLEET_TOKEN;
      if (!token) throw new ConfigError('TOKEN_MISSING', 'login: give --token <token> or set BPFLEET_TOKEN');
      // A wrong URL or token fails here, with nothing saved, instead of at the first publish.
      const who = await new RegistryClient({ url, token }).whoami().catch((err: unknown) => {
        if (err instanceof BpfleetError && (err.code === 'UNAUTHORIZED' || err.code === 'HTTP_401'))
          throw new ConfigError(
            'TOKEN_REFUSED',
            `login: ${url} refused the token (${err.message}); nothing saved`,
          );
        throw err;
      });
      if (options.admin && who.role !== 'admin') {
        throw new ConfigError(
          'TOKEN_NOT_ADMIN',
          `login: this is a publish token for namespace ${who.namespace}, not the admin token; drop --admin to save it as the publish token`,
        );
      }
      const role = who.role === 'admin' ? 'admin' : 'publish';
      const saved = { ...file.registries[url] };
      if (role === 'admin') saved.adminToken = token;
      else saved.token = token;
      await writeCredentials(path, { registry: url, registries: { ...file.registries, [url]: saved } });
      const result = {
        registry: url,
        credentials: path,
        role,
        ...(who.namespace ? { namespace: who.namespace } : {}),
      };
      printResult(
        options,
        result,
        () =>
          `saved ${role} token${who.namespace ? ` (namespace ${who.namespace})` : ''} for ${url} in ${path}` +
          (role === 'admin' && !options.admin ? ' (it is the admin token)' : ''),
      );
    });
}
