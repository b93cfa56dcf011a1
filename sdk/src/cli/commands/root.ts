// `bpfleet root init | sign | show | publish`: the root of trust's key ceremony (docs/security.md, "Key ceremonies").
import type { Command } from 'commander';
import { connectRegistry } from '../../registry-client/connect.js';
import { readPrivateKey } from '../../trust/key-files.js';
import { cosignRoot, peekRoot, signRoot } from '../../trust/root-chain.js';
import type { RootDocument } from '../../trust/root-document.js';
import { printResult } from '../output.js';
import {
  agentTrustOf,
  type RootKeyFiles,
  readRootBundle,
  rootFromKeyFiles,
  writeRootBundle,
} from './root-document-file.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];
const signersOf = (bundle: unknown) =>
  (
    (bundle as { dsseEnvelope?: { signatures?: Array<{ keyid: string }> } }).dsseEnvelope?.signatures ?? []
  ).map((s) => s.keyid);
const summary = (root: RootDocument) =>
  `root v${root.version} (expires ${root.expires}): root ${root.roles.root.threshold} of ${root.roles.root.keys.length}, ` +
  `registry ${root.roles.registry.keys.length} key(s), operators ${root.roles.operators.threshold} of ${root.roles.operators.keys.length}, ` +
  `edge ${root.roles.edge.keys.length} key(s), publishers ${Object.keys(root.roles.publishers).join(', ') || '(none)'}`;

export function register(program: Command): void {
  const root = program
    .command('root')
    .description('The root of trust devices walk: who may sign what, rotated with thresholds of root keys');
  root
    .command('init')
    .description(
      'Write a root (version 1, or the next one with --root-version) from public key files, signed by --key',
    )
    .requiredOption('--root-key <file.pub>', 'a root key (repeat)', collect)
    .option('--root-threshold <n>', 'root keys needed to sign the next root', '1')
    .requiredOption(
      '--registry-key <file.pub>',
      "the edge's index key (repeat to overlap a rotation)",
      collect,
    )
    .requiredOption('--operator-key <file.pub>', 'an operator policy key (repeat)', collect)
    .option('--operator-threshold <n>', 'operator signatures a policy needs', '1')
    .option('--edge-key <file.pub>', "the edge's rollout policy key (repeat)", collect)
    .option('--publisher <ns=file.pub>', 'a publisher key for a namespace (repeat)', collect)
    .option('--root-version <n>', 'the version to write (each published root is the previous + 1)', '1')
    .option('--expires-in <days>', 'validity in days', '365')
    .requiredOption(
      '--key <file.key>',
      'a root private key that signs it (of this root, or of the previous one)',
    )
    .requiredOption('-o, --out <file>', 'where to write the signed root')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  bpfleet root init --root-key r1.pub --root-key r2.pub --root-threshold 2 --registry-key registry.pub \\
    --operator-key op.pub --publisher acme=acme.pub --key r1.key -o root.v1.json
  bpfleet root sign root.v1.json --key r2.key          # the second root key signs
  bpfleet root show root.v1.json --agent-trust         # the agent config's trust block (devices start here)
  bpfleet root publish root.v1.json --registry http://edge:8080 --token $ADMIN`,
    )
    .action(async (options: RootKeyFiles & { key: string; out: string; json?: boolean }) => {
      const document = await rootFromKeyFiles(options);
      const bundle = await signRoot(document, [await readPrivateKey(options.key)]);
      await writeRootBundle(options.out, bundle);
      printResult(
        options,
        {
          file: options.out,
          version: document.version,
          expires: document.expires,
          signedBy: signersOf(bundle),
        },
        () => `${summary(document)}\n  signed by ${signersOf(bundle).join(', ')} → ${options.out}`,
      );
    });
  root
    .command('sign')
    .description('Add a root key signature to a root file (each root key holder runs this in turn)')
    .argument('<file>', 'a signed root (from root init or an earlier root sign); rewritten in place')
    .requiredOption('--key <file.key>', 'a root private key')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  bpfleet root sign root.v2.json --key r2.key\n  bpfleet root sign root.v2.json --key r3.key --json',
    )
    .action(async (file: string, options: { key: string; json?: boolean }) => {
      const bundle = await cosignRoot(await readRootBundle(file), await readPrivateKey(options.key));
      await writeRootBundle(file, bundle);
      const document = peekRoot(bundle);
      printResult(
        options,
        { file, version: document.version, signedBy: signersOf(bundle) },
        () =>
          `root v${document.version}: ${signersOf(bundle).length} signature(s): ${signersOf(bundle).join(', ')}`,
      );
    });
  root
    .command('show')
    .description('Show a root file (signatures are not checked here: the edge and devices check them)')
    .argument('<file>', 'a signed root')
    .option('--agent-trust', "print the agent config's trust block for devices provisioned with this root")
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  bpfleet root show root.v2.json\n  bpfleet root show root.v1.json --agent-trust --json',
    )
    .action(async (file: string, options: { agentTrust?: boolean; json?: boolean }) => {
      const bundle = await readRootBundle(file);
      const document = peekRoot(bundle);
      if (options.agentTrust) {
        process.stdout.write(`${JSON.stringify({ trust: agentTrustOf(document) }, null, 2)}\n`);
        return;
      }
      printResult(options, { ...document, signedBy: signersOf(bundle) }, () => summary(document));
    });
  root
    .command('publish')
    .description('Publish the next root to the edge: it checks the chain and announces it to every device')
    .argument('<file>', 'a root signed by a threshold of the current and of its own root keys')
    .option('--registry <url>', 'edge URL')
    .option('--token <token>', 'admin token')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  bpfleet root publish root.v2.json --registry http://edge:8080 --token $ADMIN',
    )
    .action(async (file: string, options: { registry?: string; token?: string; json?: boolean }) => {
      const client = await connectRegistry(options, 'admin');
      const result = await client.requestJson<{ version: number; expires: string }>(
        `publish root ${file}`,
        'PUT',
        '/v1/root',
        await readRootBundle(file),
      );
      printResult(
        options,
        result,
        () => `published root v${result.version} (expires ${result.expires}); devices are told over MQTT`,
      );
    });
}
