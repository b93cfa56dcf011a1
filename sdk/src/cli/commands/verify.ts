// `bpfleet verify <package>`: checks a package's bundle against publisher keys or a trust policy file.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { splitPackageName } from '../../manifest/package-name.js';
import { readPublicKey } from '../../trust/key-files.js';
import { verifyPackage } from '../../trust/package-signature.js';
import { parseTrustPolicy, type TrustPolicy } from '../../trust/trust-policy.js';
import { printResult } from '../output.js';
import { defaultBundlePath, readBundleFile, readPackageFile, subjectOf } from '../package-file.js';

interface VerifyOptions {
  bundle?: string;
  key?: string[];
  trust?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function register(program: Command): void {
  program
    .command('verify')
    .description("Verify a package's signature against publisher keys (--key) or a trust policy (--trust)")
    .argument('<package>', 'the package file (.bpfleet.tgz)')
    .option('--bundle <file>', 'the bundle (default: <package>.sigstore.json)')
    .option(
      '--key <file>',
      "a trusted publisher public key for the package's namespace (repeatable)",
      collect,
    )
    .option('--trust <file>', 'a trust policy JSON file: { "publishers": { "<namespace>": [keys] } }')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, options: VerifyOptions, command: Command) => {
      if (!options.key?.length && !options.trust) {
        command.error('bpfleet verify: give --key <public key> or --trust <policy file>', { exitCode: 2 });
      }
      const pkg = await readPackageFile(file, 'verify');
      const bundlePath = options.bundle ?? defaultBundlePath(file);
      const bundle = await readBundleFile(bundlePath);
      const policy: TrustPolicy = options.trust
        ? parseTrustPolicy(JSON.parse(await readFile(options.trust, 'utf8')))
        : { publishers: {} };
      const { namespace } = splitPackageName(pkg.manifest.name);
      const given = await Promise.all((options.key ?? []).map((f) => readPublicKey(f)));
      const keys = given.map((k) => ({ keyId: k.keyId, publicKeyPem: k.publicKeyPem }));
      policy.publishers[namespace] = [...(policy.publishers[namespace] ?? []), ...keys];
      const verified = await verifyPackage(bundle, subjectOf(pkg), policy);
      const result = {
        verified: true,
        package: `${pkg.manifest.name}@${pkg.manifest.version}`,
        digest: pkg.archiveDigest,
        keyId: verified.keyId,
      };
      printResult(
        options,
        result,
        () => `verified  ${result.package}\ndigest    ${result.digest}\nsigned by ${result.keyId}`,
      );
    });
}
