// `bpfleet sign <package> --key <file>`: signs a package as a Sigstore bundle (DSSE, in-toto statement).
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { packageId } from '../../manifest/package-name.js';
import { readPrivateKey } from '../../trust/key-files.js';
import { signPackage } from '../../trust/package-signature.js';
import { printResult } from '../output.js';
import { defaultBundlePath, readPackageFile, subjectOf } from '../package-file.js';

interface SignOptions {
  key: string;
  output?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('sign')
    .description(
      'Sign a package with a publisher key: writes the bundle beside it (x.bpfleet.tgz → x.bpfleet.sigstore.json)',
    )
    .argument('<package>', 'the package file (.bpfleet.tgz)')
    .requiredOption('--key <file>', 'the publisher private key (from `bpfleet keys generate`)')
    .option(
      '-o, --output <file>',
      'where to write the bundle (default: the package path with .tgz → .sigstore.json)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (file: string, options: SignOptions) => {
      const pkg = await readPackageFile(file, 'sign');
      const key = await readPrivateKey(options.key);
      const bundle = await signPackage(subjectOf(pkg), key);
      const out = options.output ?? defaultBundlePath(file);
      await writeFile(out, `${JSON.stringify(bundle, null, 2)}\n`);
      const result = {
        package: packageId(pkg.manifest),
        digest: pkg.archiveDigest,
        keyId: key.keyId,
        bundle: out,
      };
      printResult(options, result, () =>
        [
          `signed    ${result.package}`,
          `digest    ${result.digest}`,
          `key id    ${result.keyId}`,
          `bundle    ${out}`,
        ].join('\n'),
      );
    });
}
