// `bpfleet namespace create|list|add-key|token|tokens|revoke-token`: the admin's side of publishing (namespaces, publisher keys, tokens).
import type { Command } from 'commander';
import { connectRegistry } from '../../registry-client/connect.js';
import { readPublicKey } from '../../trust/key-files.js';
import { printResult } from '../output.js';
import { renderTable, terminalWidth } from '../table.js';

interface Options {
  registry?: string;
  token?: string;
  json?: boolean;
}

const admin = (o: Options) => connectRegistry(o, 'admin');

export function register(program: Command): void {
  const ns = program
    .command('namespace')
    .description('Namespaces, their publisher keys and publish tokens (admin token)');
  const common = (c: Command) =>
    c
      .option('--registry <url>', 'registry URL')
      .option('--token <token>', 'admin token')
      .option('--json', 'print the result as JSON');

  common(ns.command('create').description('Create a namespace').argument('<name>', 'namespace')).action(
    async (name: string, o: Options) => {
      const created = await (await admin(o)).createNamespace(name);
      printResult(o, created, () => `created namespace ${created.name}`);
    },
  );
  common(ns.command('list').description('List namespaces')).action(async (o: Options) => {
    const all = await (await admin(o)).listNamespaces();
    printResult(o, all, () => all.map((n) => n.name).join('\n') || '(no namespaces)');
  });
  common(
    ns
      .command('add-key')
      .description(
        "Trust a publisher's public key for a namespace (its packages must be signed by one of them)",
      )
      .argument('<name>', 'namespace')
      .argument('<public-key>', 'the publisher public key file (.pub)'),
  ).action(async (name: string, file: string, o: Options) => {
    const key = await readPublicKey(file);
    const added = await (await admin(o)).addPublisherKey(name, key.publicKeyPem);
    printResult(o, added, () => `namespace ${name} now trusts key ${added.keyId}`);
  });
  common(
    ns
      .command('tokens')
      .description("A namespace's publish tokens (never their secrets)")
      .argument('<name>', 'namespace'),
  ).action(async (name: string, o: Options) => {
    const tokens = await (await admin(o)).listTokens(name);
    printResult(o, tokens, () =>
      tokens.length === 0
        ? `(no tokens for ${name})`
        : renderTable(
            ['ID', 'LABEL', 'CREATED', 'REVOKED'],
            tokens.map((t) => [t.id, t.label || '-', t.createdAt, t.revokedAt ?? '-']),
            { width: terminalWidth() },
          ),
    );
  });
  common(
    ns
      .command('revoke-token')
      .description('Revoke a publish token at once (its holder can no longer publish, move channels or yank)')
      .argument('<name>', 'namespace')
      .argument('<token-id>', 'the token id (bpfleet namespace tokens lists them)'),
  ).action(async (name: string, id: string, o: Options) => {
    await (await admin(o)).revokeToken(name, id);
    printResult(o, { namespace: name, id, revoked: true }, () => `revoked token ${id} of ${name}`);
  });
  common(
    ns
      .command('token')
      .description('Issue a publish token scoped to a namespace (shown once)')
      .argument('<name>', 'namespace')
      .option('--label <text>', 'what the token is for', ''),
  ).action(async (name: string, o: Options & { label: string }) => {
    const issued = await (await admin(o)).createToken(name, o.label);
    printResult(
      o,
      issued,
      () =>
        `publish token for ${name} (shown once): ${issued.token}\nuse it with: bpfleet login --token ${issued.token}`,
    );
  });
}
