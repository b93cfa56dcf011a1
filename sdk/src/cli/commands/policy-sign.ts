// `bpfleet policy sign`: the first operator signs a policy file, each further operator co-signs the signed bundle.
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { PolicyError } from '../../errors.js';
import type { PolicyTarget } from '../../policy/policy.js';
import { cosignPolicy, readPolicyPayload, signPolicy } from '../../policy/sign-policy.js';
import { connectRegistry } from '../../registry-client/connect.js';
import { FleetClient } from '../../registry-client/fleet-client.js';
import { readPrivateKey } from '../../trust/key-files.js';
import { printResult } from '../output.js';
import { readPolicyFile } from './policy-file.js';

interface SignOptions {
  key: string;
  out?: string;
  registry?: string;
  token?: string;
  expiresIn: string;
  json?: boolean;
}

const describe = (t: PolicyTarget) => ('device' in t ? `device ${t.device}` : `group ${t.group}`);

/** A signed bundle is JSON with a DSSE envelope; anything else is a policy to sign first. */
async function readSigned(file: string): Promise<unknown | undefined> {
  const text = await readFile(file, 'utf8').catch((err: Error) => {
    throw new PolicyError('POLICY_UNREADABLE', `policy ${file}: ${err.message}`, { cause: err });
  });
  try {
    const value = JSON.parse(text) as { dsseEnvelope?: unknown };
    return typeof value === 'object' && value !== null && 'dsseEnvelope' in value ? value : undefined;
  } catch {
    return undefined;
  }
}

function signedPath(file: string): string {
  const name = basename(file).replace(/\.(ya?ml|json)$/, '');
  return join(dirname(file), `${name}.signed.json`);
}

export function registerPolicySign(policy: Command): void {
  policy
    .command('sign')
    .description(
      'Sign a policy with an operator key, or co-sign a signed one (k of n operators: each runs this in turn)',
    )
    .argument('<file>', 'a policy (YAML/JSON) to sign, or a signed policy bundle (.signed.json) to co-sign')
    .requiredOption('--key <file>', 'this operator private key')
    .option(
      '-o, --out <file>',
      'where to write the bundle (default: <name>.signed.json; a co-sign rewrites <file>)',
    )
    .option('--expires-in <days>', 'validity when the file gives no expires', '7')
    .option('--registry <url>', 'edge URL, to fill in a missing serial')
    .option('--token <token>', 'admin token')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  bpfleet policy sign gateways.yaml --key op1.key          # writes gateways.signed.json
  bpfleet policy sign gateways.signed.json --key op2.key   # adds a second signature
  bpfleet policy apply --bundle gateways.signed.json       # the edge needs --operator-threshold of them`,
    )
    .action(async (file: string, options: SignOptions) => {
      const key = await readPrivateKey(options.key);
      const signed = await readSigned(file);
      const bundle = signed
        ? await cosignPolicy(signed, key)
        : await signPolicy(
            await readPolicyFile(
              file,
              async () => new FleetClient(await connectRegistry(options, 'admin')),
              Number(options.expiresIn),
            ),
            key,
          );
      const out = options.out ?? (signed ? file : signedPath(file));
      await writeFile(out, `${JSON.stringify(bundle, null, 2)}\n`, { mode: 0o644 });
      const { policy, keyIds } = readPolicyPayload(bundle);
      const result = {
        file: out,
        target: describe(policy.target),
        serial: policy.serial,
        expires: policy.expires,
        signedBy: keyIds,
        cosigned: signed !== undefined,
      };
      printResult(options, result, () =>
        [
          `${signed ? 'co-signed' : 'signed'} policy serial ${policy.serial} for ${result.target} (${policy.programs.length} program(s), expires ${policy.expires}) → ${out}`,
          `  ${keyIds.length} signature(s): ${keyIds.join(', ')}`,
        ].join('\n'),
      );
    });
}
