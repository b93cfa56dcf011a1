// `bpfleet policy apply|show|diff` (and `sign`): operator policies, signed here, checked and published by the edge.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { PolicyError } from '../../errors.js';
import type { Policy, PolicyTarget } from '../../policy/policy.js';
import { readPolicyPayload, signPolicy } from '../../policy/sign-policy.js';
import { connectRegistry } from '../../registry-client/connect.js';
import { FleetClient } from '../../registry-client/fleet-client.js';
import type { SerializedBundle } from '../../trust/index.js';
import { readPrivateKey } from '../../trust/key-files.js';
import { planLines } from '../fleet-views.js';
import { EXIT_FAILURE, printResult, reportError } from '../output.js';
import { changeLines, diffPolicies, selectorOf as selector } from '../policy-diff.js';
import { readPolicyFile } from './policy-file.js';
import { registerPolicySign } from './policy-sign.js';

interface ConnectOptions {
  registry?: string;
  token?: string;
  json?: boolean;
}

async function fleetClient(options: ConnectOptions): Promise<FleetClient> {
  return new FleetClient(await connectRegistry(options, 'admin'));
}

const describe = (t: PolicyTarget) => ('device' in t ? `device ${t.device}` : `group ${t.group}`);
async function readBundleFile(file: string): Promise<SerializedBundle> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as SerializedBundle;
  } catch (err) {
    throw new PolicyError('POLICY_UNREADABLE', `policy bundle ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

export function register(program: Command): void {
  const policy = program.command('policy').description('Operator policies: what runs where');
  registerPolicySign(policy);
  const connect = (c: Command) =>
    c
      .option('--registry <url>', 'edge URL')
      .option('--token <token>', 'admin token')
      .option('--json', 'print the result as JSON');

  connect(
    policy
      .command('apply')
      .description(
        'Publish a policy (retained) through the edge: sign a file with an operator key, or send a bundle signed by enough operators',
      )
      .option(
        '-f, --file <policy.yaml>',
        'the policy (YAML or JSON); serial and expires are filled in when absent',
      )
      .option('--key <file>', 'the operator private key that signs --file')
      .option(
        '--bundle <file.signed.json>',
        'a policy already signed (and co-signed) with `bpfleet policy sign`',
      )
      .option('--expires-in <days>', 'validity when the file gives no expires', '7')
      .option('--dry-run', 'validate (and sign), but do not publish')
      .addHelpText(
        'after',
        `
Examples:
  bpfleet policy apply -f gateways.yaml --key operator.key
  bpfleet policy apply --bundle gateways.signed.json    # k of n: signed with \`bpfleet policy sign\` by each operator`,
      ),
  ).action(
    async (
      options: ConnectOptions & {
        file?: string;
        key?: string;
        bundle?: string;
        expiresIn: string;
        dryRun?: boolean;
      },
      command: Command,
    ) => {
      const signing = options.file !== undefined || options.key !== undefined;
      const complete = options.file !== undefined && options.key !== undefined;
      if (options.bundle !== undefined ? signing : !complete) {
        command.error('policy apply: give either --bundle FILE, or -f FILE with --key KEY (not both)', {
          exitCode: 2,
          code: 'USAGE',
        });
      }
      const fleet = await fleetClient(options);
      let bundle: SerializedBundle;
      let doc: Policy;
      if (options.bundle !== undefined) {
        bundle = await readBundleFile(options.bundle);
        doc = readPolicyPayload(bundle).policy;
      } else {
        doc = await readPolicyFile(options.file!, async () => fleet, Number(options.expiresIn));
        bundle = await signPolicy(doc, await readPrivateKey(options.key!));
      }
      const result = options.dryRun
        ? {
            target: describe(doc.target),
            serial: doc.serial,
            // The edge's own checks (packages, versions, config, maps, serial): what apply would refuse, refused here.
            plan: (await fleet.checkPolicy(doc)).plan,
            published: false,
          }
        : {
            ...(await fleet.applyPolicy(bundle)),
            published: true,
          };
      printResult(options, result, () =>
        [
          `${result.published ? 'published' : 'checked (dry run)'} policy serial ${doc.serial} for ${describe(doc.target)}: ${doc.programs.length} program(s), expires ${doc.expires}`,
          ...planLines(result.plan),
        ].join('\n'),
      );
    },
  );

  connect(
    policy
      .command('show')
      .description('Show the policy the edge publishes for a device or a group (all targets without one)')
      .option('--device <id>', 'a device')
      .option('--group <name>', 'a group'),
  ).action(async (options: ConnectOptions & { device?: string; group?: string }) => {
    const fleet = await fleetClient(options);
    if (!options.device && !options.group) {
      const all = await fleet.listPolicies();
      printResult(
        options,
        all,
        () =>
          all
            .map(
              (p) =>
                `${p.target.padEnd(28)} serial ${String(p.serial).padEnd(6)} ${p.policy.programs.map((q) => `${q.id}=${q.package}@${selector(q)}`).join(', ')}`,
            )
            .join('\n') || '(no policies)',
      );
      return;
    }
    const target: PolicyTarget = options.device ? { device: options.device } : { group: options.group! };
    const current = await fleet.currentPolicy(target);
    printResult(options, current, () =>
      current.policy
        ? [
            `${describe(target)}: serial ${current.serial}, expires ${current.policy.expires}`,
            ...current.policy.programs.map(
              (p) => `  ${p.id.padEnd(16)} ${p.package}@${selector(p)} ${JSON.stringify(p.attach ?? {})}`,
            ),
          ].join('\n')
        : `${describe(target)}: no policy`,
    );
  });

  connect(
    policy
      .command('diff')
      .description(
        'What applying a policy file would change, and on which devices; the edge checks it as apply would (exit 0: no change, 1: changes, 2: refused or error)',
      )
      .requiredOption('-f, --file <policy.yaml>', 'the policy')
      .addHelpText(
        'after',
        `
Exit codes follow kubectl diff: 0 nothing would change, 1 something would, 2 the edge refuses the policy (or any
other error), so scripts can gate an apply on it.

Examples:
  bpfleet policy diff -f gateways.yaml
  bpfleet policy diff -f gateways.yaml --json`,
      ),
  ).action(async (options: ConnectOptions & { file: string }) => {
    try {
      const changed = await diffPolicy(options);
      process.exitCode = changed ? EXIT_FAILURE : 0;
    } catch (err) {
      reportError(err, options.json === true);
      process.exitCode = 2;
    }
  });
}

/** Prints the diff; true when applying would change anything. */
async function diffPolicy(options: ConnectOptions & { file: string }): Promise<boolean> {
  const fleet = await fleetClient(options);
  const next = await readPolicyFile(options.file, async () => fleet, 7);
  const { policy: current } = await fleet.currentPolicy(next.target);
  const changes = diffPolicies(current, next);
  const devices =
    'device' in next.target
      ? [next.target.device]
      : (await fleet.listDevices({ group: next.target.group })).map((d) => d.id);
  // A diff of a policy the edge would refuse is no answer: it is checked as apply checks it.
  const { plan } = await fleet.checkPolicy(next);
  const where = (p: Policy | null) => JSON.stringify(p?.target.where ?? null);
  const whereChange =
    where(current) === where(next) ? undefined : { before: where(current), after: where(next) };
  // What rollouts (the edge key) may pin from now on: a change here widens or narrows the edge's bound.
  const allowed = (p: Policy | null) =>
    (p?.grants ? p.grants.map((g) => readPolicyPayload(g).policy) : p ? [p] : [])
      .flatMap((q) => q.allow ?? [])
      .map((a) => `${a.package} ${a.versions}`)
      .join(', ') || 'none';
  const allow =
    allowed(current) === allowed(next) ? undefined : { before: allowed(current), after: allowed(next) };
  const result = { target: describe(next.target), changes, selector: whereChange, allow, devices, plan };
  const extra = (whereChange ? 1 : 0) + (allow ? 1 : 0);
  printResult(options, result, () =>
    [
      changes.length === 0 && extra === 0
        ? `${result.target}: no change`
        : `${result.target}: ${changes.length + extra} change(s) on ${devices.length} device(s)${devices.length ? `: ${devices.join(', ')}` : ''}`,
      ...changeLines(changes),
      ...(whereChange ? [`  ~ target.where: ${whereChange.before} → ${whereChange.after}`] : []),
      ...(allow ? [`  ~ allow (rollouts may pin): ${allow.before} → ${allow.after}`] : []),
      ...planLines(plan),
    ].join('\n'),
  );
  return changes.length + extra > 0;
}
