// `bpfleet rollout start|status|pause|resume|abort`: staged upgrades of a group, wave by wave.
import { type Command, Option } from 'commander';
import { parseDuration } from '../../duration.js';
import { ConfigError } from '../../errors.js';
import { connectRegistry } from '../../registry-client/connect.js';
import { FleetClient, type RolloutView } from '../../registry-client/fleet-client.js';
import { parsePackageRef } from '../../registry-client/package-ref.js';
import { parseWaves, type WaveStep } from '../../rollout/waves.js';
import { usageArg } from '../arg-parsers.js';
import { printResult } from '../output.js';
import { resolveRolloutId, rolloutListText, rolloutText } from '../rollout-views.js';
import { terminalWidth } from '../table.js';

interface Options {
  registry?: string;
  token?: string;
  json?: boolean;
}

const fleetClient = async (o: Options) => new FleetClient(await connectRegistry(o, 'admin'));

function parseFraction(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1)
    throw new ConfigError(
      'USAGE',
      `--failure-threshold: ${JSON.stringify(text)} is not a fraction from 0 to 1, e.g. 0.1`,
    );
  return value;
}

export function register(program: Command): void {
  const rollout = program.command('rollout').description('Staged rollouts of a package version to a group');
  const common = (c: Command) =>
    c
      .option('--registry <url>', 'edge URL')
      .option('--token <token>', 'admin token')
      .option('--json', 'print the result as JSON');

  common(
    rollout
      .command('start')
      .description('Upgrade a group in waves; abort and restore when failures pass the threshold')
      .argument('<group>', 'device group')
      .argument('<package@version>', 'namespace/name@version')
      .addOption(
        new Option(
          '--waves <list>',
          'cumulative share of the group reached by each wave: percentages or counts',
        )
          .argParser(usageArg((v) => parseWaves(v, '--waves')))
          .default(['10%', '50%', '100%'], '10%,50%,100%'),
      )
      .addOption(
        new Option('--wave-timeout <duration>', 'how long a wave waits for ATTACHED reports (10s to 7d)')
          .argParser(
            usageArg((v) => parseDuration(v, '--wave-timeout', { min: 10_000, max: 7 * 86_400_000 })),
          )
          .default(300_000, '5m'),
      )
      .addOption(
        new Option(
          '--failure-threshold <fraction>',
          'share of moved devices that may fail or time out (0 to 1)',
        )
          .argParser(usageArg(parseFraction))
          .default(0.1, '0.1'),
      )
      .addHelpText(
        'after',
        `
Waves are cumulative: 10%,50%,100% moves a tenth of the group, then up to half, then the rest.
A device offline when its wave starts that stays silent is UNREACHABLE, not a failure.

Examples:
  bpfleet rollout start gateways acme/xdp-firewall@1.3.0
  bpfleet rollout start gateways acme/xdp-firewall@1.3.0 --waves 1,10%,100% --wave-timeout 10m
  bpfleet rollout start lab acme/xdp-firewall@1.3.0 --failure-threshold 0 --json`,
      ),
  ).action(
    async (
      group: string,
      ref: string,
      o: Options & { waves: WaveStep[]; waveTimeout: number; failureThreshold: number },
    ) => {
      const pkg = parsePackageRef(ref);
      if (!pkg.version) throw new ConfigError('USAGE', `rollout start: ${ref}: give namespace/name@version`);
      const r = await (await fleetClient(o)).startRollout({
        group,
        package: `${pkg.namespace}/${pkg.name}`,
        version: pkg.version,
        waves: o.waves,
        waveTimeoutMs: o.waveTimeout,
        failureThreshold: o.failureThreshold,
      });
      printResult(o, r, () => rolloutText(r, { width: terminalWidth() }));
    },
  );

  common(
    rollout
      .command('status')
      .description('A rollout with its waves and devices; without an id, every rollout, newest first')
      .argument('[id]', 'rollout id, or the first characters of it')
      .option('--devices', 'list every device, even in a large group')
      .option('--watch', 'follow the rollout until it is COMPLETED or ABORTED')
      .addHelpText(
        'after',
        `
Examples:
  bpfleet rollout status
  bpfleet rollout status 3f2a9c1e --watch
  bpfleet rollout status 3f2a9c1e --json`,
      ),
  ).action(async (id: string | undefined, o: Options & { devices?: boolean; watch?: boolean }) => {
    const client = await fleetClient(o);
    if (!id) {
      if (o.watch) throw new ConfigError('USAGE', 'rollout status --watch: give the rollout id to follow');
      const all = await client.listRollouts();
      printResult(o, all, () => rolloutListText(all, terminalWidth()));
      return;
    }
    const full = await resolveRolloutId(client, id);
    const show = (r: RolloutView) =>
      printResult(o, r, () => rolloutText(r, { width: terminalWidth(), allDevices: o.devices === true }));
    if (!o.watch) return show(await client.getRollout(full));
    await watchRollout(client, full, o, show);
  });

  for (const action of ['pause', 'resume', 'abort'] as const) {
    common(
      rollout
        .command(action)
        .description(`${action[0]!.toUpperCase()}${action.slice(1)} a rollout`)
        .argument('<id>', 'rollout id, or the first characters of it'),
    ).action(async (id: string, o: Options) => {
      const client = await fleetClient(o);
      const r = await client.controlRollout(await resolveRolloutId(client, id), action);
      printResult(o, r, () => rolloutText(r, { width: terminalWidth() }));
    });
  }
}

/** Redraws on a terminal; elsewhere prints each change once (JSON: one document per line of change). */
async function watchRollout(
  client: FleetClient,
  id: string,
  o: Options,
  show: (r: RolloutView) => void,
): Promise<void> {
  const tty = process.stdout.isTTY && !o.json;
  let last = '';
  for (;;) {
    const r = await client.getRollout(id);
    const now = JSON.stringify([r.state, r.currentWave, r.devices, r.pending]);
    if (now !== last) {
      if (tty) process.stdout.write('\x1b[2J\x1b[H');
      show(r);
      last = now;
    }
    if ((r.state === 'COMPLETED' || r.state === 'ABORTED') && !r.pending?.length) return;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}
