// `bpfleet login --registry <url> --token <token> [--admin]`: saves a token in the credentials file (0600).
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
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
      // Fails early on a wrong URL instead of at the first publish.
      await new RegistryClient({ url }).listNamespaces();
      const saved = { ...file.registries[url] };
      if (options.admin) saved.adminToken = token;
      else saved.token = token;
      await writeCredentials(path, { registry: url, registries: { ...file.registries, [url]: saved } });
      const result = { registry: url, credentials: path, role: options.admin ? 'admin' : 'publish' };
      printResult(options, result, () => `saved ${result.role} token for ${url} in ${path}`);
    });
}
