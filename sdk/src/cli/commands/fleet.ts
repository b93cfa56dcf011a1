// `bpfleet fleet status|device|register`: what runs where, one device's detail and history (or disable/enable),
// device credentials.
import type { Command } from 'commander';
import { connectRegistry } from '../../registry-client/connect.js';
import { type DeviceSummary, FleetClient } from '../../registry-client/fleet-client.js';
import { inventoryBrief, inventoryLines } from '../fleet-views.js';
import { printResult } from '../output.js';
import { renderTable, terminalWidth } from '../table.js';
import { DEVICE_STATE_HELP, isDeviceStateAction, setDeviceState } from './fleet-device-state.js';
import { registerEventsCommand } from './fleet-events.js';
import { METRICS_HELP, metricsText, metricsUsageProblem } from './fleet-metrics.js';
import { registerDeviceCommand } from './fleet-register.js';

interface Options {
  registry?: string;
  token?: string;
  json?: boolean;
}

interface DeviceOptions extends Options {
  events: string;
  metrics?: string | true;
  since: string;
  step?: string;
}

const fleetClient = async (o: Options) => new FleetClient(await connectRegistry(o, 'admin'));

/** One row per device and program (a device without programs gets one row). */
export function statusTable(devices: DeviceSummary[], width?: number): string {
  if (devices.length === 0) return '(no devices)';
  const rows: string[][] = [];
  for (const d of devices) {
    const programs = d.programs.length > 0 ? d.programs : [null];
    for (const p of programs) {
      rows.push([
        d.id,
        d.state === 'DISABLED' ? 'DISABLED' : d.presence,
        d.groups.join(',') || '-',
        inventoryBrief(d.inventory),
        p?.id ?? '-',
        p?.package ?? '-',
        p?.version ?? '-',
        p?.status ?? '-',
        p?.lastError ? `${p.lastError.code}: ${p.lastError.message}` : '',
      ]);
    }
  }
  return renderTable(
    ['DEVICE', 'PRESENCE', 'GROUPS', 'HOST', 'PROGRAM', 'PACKAGE', 'VERSION', 'STATUS', 'LAST ERROR'],
    rows,
    width === undefined ? {} : { width },
  );
}

export function register(program: Command): void {
  const fleet = program.command('fleet').description('Devices of the fleet: status, detail, registration');
  const common = (c: Command) =>
    c
      .option('--registry <url>', 'edge URL')
      .option('--token <token>', 'admin token')
      .option('--json', 'print the result as JSON');

  common(
    fleet
      .command('status')
      .description('What runs where: one row per device and program')
      .option('--group <name>', 'only devices of this group')
      .option(
        '--status <status>',
        'only devices with a program in this status (ATTACHED, FAILED, …) or this presence',
      )
      .option('--package <pkg[@version]>', 'only devices running this package (version)'),
  ).action(async (o: Options & { group?: string; status?: string; package?: string }) => {
    const devices = await (await fleetClient(o)).listDevices({
      group: o.group,
      status: o.status,
      package: o.package,
    });
    printResult(o, devices, () => statusTable(devices, terminalWidth()));
  });

  common(
    fleet
      .command('device')
      .description("One device's detail and its recent events; or disable / enable it")
      .argument('<id>', 'device id, or disable / enable / remove followed by the device id')
      .argument('[device]', 'the device to disable, enable or remove')
      .option('--events <n>', 'how many events to show', '20')
      .option('--metrics [name]', "the device's telemetry over time (one metric, or all)")
      .option('--since <when>', 'with --metrics: a duration back (30m, 6h, 7d) or an RFC 3339 time', '1h')
      .option('--step <duration>', 'with --metrics: point width (1m, 10m, 1h)')
      .addHelpText('after', `${DEVICE_STATE_HELP}${METRICS_HELP}`),
  ).action(async (first: string, second: string | undefined, o: DeviceOptions, command: Command) => {
    const client = await fleetClient(o);
    if (o.metrics !== undefined && second === undefined) {
      const problem = metricsUsageProblem(o.since, o.step);
      if (problem) command.error(`fleet device: ${problem}`, { exitCode: 2, code: 'USAGE' });
      const name = o.metrics === true ? undefined : o.metrics;
      const view = await client.deviceMetrics(first, { name, since: o.since, step: o.step });
      printResult(o, view, () => metricsText(view));
      return;
    }
    if (second !== undefined) {
      if (!isDeviceStateAction(first)) {
        command.error(`fleet device: ${first} is not disable, enable or remove`, {
          exitCode: 2,
          code: 'USAGE',
        });
      }
      await setDeviceState(client, first, second, o);
      return;
    }
    const id = first;
    const [device, events] = await Promise.all([
      client.getDevice(id),
      client.deviceEvents(id, Number(o.events)),
    ]);
    printResult(o, { device, events }, () =>
      [
        statusTable([device], terminalWidth()),
        '',
        ...inventoryLines(device.inventory),
        ...Object.entries(device.policyErrors).map(([topic, r]) =>
          r.code === 'TARGET_EXCLUDED'
            ? `left out by policy on ${topic}: ${r.message}`
            : `refused policy on ${topic}: ${r.code}: ${r.message}`,
        ),
        'events (newest first):',
        ...events.map((e) =>
          `  ${e.receivedAt}  ${String(e.event.state).padEnd(12)} ${e.event.deployment ?? ''} ${e.event.version ?? ''} ${(e.event.reason as { message?: string } | undefined)?.message ?? ''}`.trimEnd(),
        ),
      ].join('\n'),
    );
  });

  registerDeviceCommand(fleet, common);
  registerEventsCommand(fleet, common);
}
