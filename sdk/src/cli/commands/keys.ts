// `bpfleet keys generate`: writes an ECDSA P-256 key pair (private key mode 0600, never overwritten).
import type { Command } from 'commander';
import { writeKeyPair } from '../../trust/key-files.js';
import { printResult } from '../output.js';

interface GenerateOptions {
  name: string;
  out: string;
  json?: boolean;
}

export function register(program: Command): void {
  const keys = program.command('keys').description('Manage signing keys');
  keys
    .command('generate')
    .description('Generate an ECDSA P-256 key pair: <name>.key (mode 0600) and <name>.pub')
    .option('--name <name>', 'file name stem of the key pair', 'bpfleet')
    .option('--out <dir>', 'directory to write the key files to', '.')
    .option('--json', 'print the result as JSON')
    .action(async (options: GenerateOptions) => {
      const files = await writeKeyPair(options.out, options.name);
      printResult(options, files, () =>
        [
          `key id       ${files.keyId}`,
          `private key  ${files.privateKeyPath} (mode 0600: keep it secret)`,
          `public key   ${files.publicKeyPath}`,
        ].join('\n'),
      );
    });
}
