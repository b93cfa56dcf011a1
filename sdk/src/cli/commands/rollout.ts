// `bpfleet rollout start|status|pause|resume|abort`: staged upgrades of a group, wave by wave.
import type { Command } from 'commander';
import { connectRegistry } from '../../registry-client/connect.js';
import { FleetClient, type RolloutView } from '../../registry-client/fleet-client.js';
import { parsePackageRef } from '../../registry-client/package-ref.js';
import { printResult } from '../output.js';

interface Options {
  registry?: string;
  token?: string;
  json?: boolean;
}

const fleetClient = async (o: Options) => new FleetClient(await connectRegistry(o, 'admin'));

function parseDurationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(text);
  if (!m) throw new Error(`not a duration: ${text} (e.g. 90s, 5m)`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
}

export function rolloutText(r: RolloutView): string {
  const counts = (devices: string[]) => {
    const by: Record<string, number> = {};
    for (const d of devices) {
      const s = r.devices[d]?.status ?? '?';
      by[s] = (by[s] ?? 0) + 1;
    }
    return Object.entries(by)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ');
  };
  return [
    `rollout ${r.id}: ${r.spec.package}@${r.spec.version} to group ${r.spec.group}: ${r.state}${r.reason ? ` (${r.reason})` : ''}${r.pending?.length ? ` — still applying: ${r.pending.map((a) => a.kind).join(', ')}` : ''}`,
    ...r.waves.map(
      (w, i) =>
        `  wave ${i + 1}${i === r.currentWave ? '*' : ' '} ${String(w.devices.length).padStart(5)} device(s): ${counts(w.devices)}`,
    ),
    ...Object.entries(r.devices)
      .filter(([, d]) => d.detail)
      .map(([id, d]) => `  ${id}: ${d.status}: ${d.detail}`),
  ].join('\n');
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
      .option('--waves <list>', 'wave sizes, percentages or counts', '10%,50%,100%')
      .option('--wave-timeout <duration>', 'how long a wave waits for ATTACHED reports', '5m')
      .option('--failure-threshold <fraction>', 'share of moved devices that may fail or time out', '0.1'),
  ).action(
    async (
      group: string,
      ref: string,
      o: Options & { waves: string; waveTimeout: string; failureThreshold: string },
    ) => {
      const pkg = parsePackageRef(ref);
      if (!pkg.version) throw new Error(`rollout: ${ref}: give namespace/name@version`);
      const waves = o.waves.split(',').map((w) => (w.endsWith('%') ? w : Number(w)));
      const r = await (await fleetClient(o)).startRollout({
        group,
        package: `${pkg.namespace}/${pkg.name}`,
        version: pkg.version,
        waves,
        waveTimeoutMs: parseDurationMs(o.waveTimeout),
        failureThreshold: Number(o.failureThreshold),
      });
      printResult(o, r, () => rolloutText(r));
    },
  );

  common(
    rollout
      .command('status')
      .description('A rollout with its waves (all rollouts without an id)')
      .argument('[id]', 'rollout id'),
  ).action(async (id: string | undefined, o: Options) => {
    const client = await fleetClient(o);
    if (id) {
      const r = await client.getRollout(id);
      printResult(o, r, () => rolloutText(r));
    } else {
      const all = await client.listRollouts();
      printResult(o, all, () => all.map(rolloutText).join('\n\n') || '(no rollouts)');
    }
  });

  for (const action of ['pause', 'resume', 'abort'] as const) {
    common(
      rollout
        .command(action)
        .description(`${action[0]!.toUpperCase()}${action.slice(1)} a rollout`)
        .argument('<id>', 'rollout id'),
    ).action(async (id: string, o: Options) => {
      const r = await (await fleetClient(o)).controlRollout(id, action);
      printResult(o, r, () => rolloutText(r));
    });
  }
}
