// `bpfleet fleet events <device>`: the records a device's event streams delivered to the edge, and what each lost.
import type { Command } from 'commander';
import { connectRegistry } from '../../registry-client/connect.js';
import {
  deviceProgramEvents,
  type ProgramEventView,
  type StreamTotalsView,
} from '../../registry-client/program-events-client.js';
import { printResult } from '../output.js';

const HELP = `
Examples:
  bpfleet fleet events gw-17                       the newest 50 records of every stream
  bpfleet fleet events gw-17 --program acme/exec-trace --limit 200
  bpfleet fleet events gw-17 --stream events --json

A record's fields are decoded on the device by the manifest's record layout. "lost" counts what the device
reported it could not deliver: ring-full (the program counted a failed reserve), budget (over the device's
event budget, sampled) and malformed (not the record's size).`;

function fieldsOf(record: unknown): string {
  if (typeof record !== 'object' || record === null) return JSON.stringify(record);
  return Object.entries(record)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

export function eventsText(events: ProgramEventView[], streams: StreamTotalsView[]): string {
  const lines = streams.map(
    (s) =>
      `${s.deployment} ${s.stream} (${s.package}@${s.version}): ${s.received} received, lost ${s.lost.ringFull} ring-full, ${s.lost.budget} budget, ${s.lost.malformed} malformed`,
  );
  if (streams.length === 0) lines.push('(no event streams reported)');
  if (events.length > 0) lines.push('', 'records (newest first):');
  for (const e of events) {
    lines.push(`  ${e.receivedAt}  ${e.deployment}/${e.stream} #${e.number}  ${fieldsOf(e.record)}`);
  }
  return lines.join('\n');
}

export function registerEventsCommand(fleet: Command, common: (c: Command) => Command): void {
  common(
    fleet
      .command('events')
      .description("Records a device's event streams (ring buffers) delivered, and what each stream lost")
      .argument('<device>', 'device id')
      .option('--program <id>', 'only this deployment id or package (ns/name)')
      .option('--stream <map>', 'only this stream (the ring buffer map name)')
      .option('--limit <n>', 'how many records', '50')
      .addHelpText('after', HELP),
  ).action(
    async (
      device: string,
      o: {
        registry?: string;
        token?: string;
        json?: boolean;
        program?: string;
        stream?: string;
        limit: string;
      },
      command: Command,
    ) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
        command.error('fleet events: --limit must be an integer from 1 to 10000', {
          exitCode: 2,
          code: 'USAGE',
        });
      const http = await connectRegistry(o, 'admin');
      const result = await deviceProgramEvents(http, device, { program: o.program, stream: o.stream, limit });
      printResult(o, result, () => eventsText(result.events, result.streams));
    },
  );
}
