// `bpfleet publish <pkg.tgz> --bundle <file>`: uploads a signed package; the bundle says which package it is.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { sha256Digest } from '../../digest.js';
import { ConfigError, errorMessage, RegistryError } from '../../errors.js';
import { connectRegistry } from '../../registry-client/connect.js';
import { signedSubject } from '../../registry-client/signed-subject.js';
import { createProgress, endProgress, printResult } from '../output.js';
import { defaultBundlePath } from '../package-file.js';

interface PublishOptions {
  bundle?: string;
  registry?: string;
  token?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('publish')
    .description('Publish a signed package archive to the registry')
    .argument('<package>', 'the package archive (.tgz)')
    .option(
      '--bundle <file>',
      'the Sigstore bundle signing the archive (default: x.bpfleet.tgz → x.bpfleet.sigstore.json, as bpfleet sign writes it)',
    )
    .option('--registry <url>', 'registry URL (default: BPFLEET_REGISTRY or the credentials file)')
    .option('--token <token>', 'publish token (default: BPFLEET_TOKEN or the credentials file)')
    .option('--json', 'print the result as JSON')
    .action(async (archivePath: string, options: PublishOptions) => {
      const bundlePath = options.bundle ?? defaultBundlePath(archivePath);
      const context = `publish ${archivePath}`;
      const archive = await readFile(archivePath).catch((err: unknown) => {
        throw new ConfigError(
          'PACKAGE_UNREADABLE',
          `${context}: cannot read the package (${errorMessage(err)})`,
          {
            cause: err,
          },
        );
      });
      const bundleText = await readFile(bundlePath, 'utf8').catch((err: unknown) => {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        throw new ConfigError(
          missing ? 'BUNDLE_MISSING' : 'BUNDLE_UNREADABLE',
          missing
            ? `${context}: no bundle at ${bundlePath}: the package is not signed; run \`bpfleet sign ${archivePath} --key <publisher.key>\` first, or give --bundle`
            : `${context}: cannot read the bundle ${bundlePath} (${errorMessage(err)})`,
          { cause: err },
        );
      });
      let bundle: unknown;
      try {
        bundle = JSON.parse(bundleText);
      } catch (err) {
        throw new RegistryError('INVALID_BUNDLE', `${context}: ${bundlePath} is not JSON`, {
          cause: err,
        });
      }
      const subject = signedSubject(bundle, context);
      const digest = sha256Digest(archive);
      if (digest !== subject.digest) {
        // Caught here rather than after a long upload: the bundle signs other bytes.
        throw new RegistryError(
          'DIGEST_MISMATCH',
          `${context}: digest mismatch: the bundle signs ${subject.digest}, the archive is ${digest}`,
        );
      }
      const client = await connectRegistry(options, 'publish');
      const progress = createProgress(options);
      const id = `${subject.namespace}/${subject.name}@${subject.version}`;
      const published = await client
        .publish({
          namespace: subject.namespace,
          name: subject.name,
          version: subject.version,
          archive,
          bundle,
          onProgress: (sent, total) =>
            progress(`uploading ${id}: ${Math.floor((sent * 100) / total)}% of ${total} bytes`),
        })
        .finally(() => endProgress(options));
      printResult(
        options,
        published,
        () => `published ${id} (${published.digest}, ${published.size} bytes) to ${client.url}`,
      );
    });
}
