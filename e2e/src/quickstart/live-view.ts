// Polls the fleet API and shows the table: redrawn in place on a terminal, a block per change otherwise.
import { errorMessage } from '@bpfleet/sdk/errors';
import type { FleetClient } from '@bpfleet/sdk/registry-client';
import { type DeviceView, fleetTable } from './fleet-view.js';

export interface LiveViewOptions {
  fleet: FleetClient;
  intervalMs: number;
  /** Redraw in place (a TTY) or append a block only when the table changed. */
  redraw: boolean;
  write: (text: string) => void;
  /** Called with each fresh device list (e.g. to decide the run is ready). */
  onDevices?: (devices: DeviceView[]) => void;
  header?: () => string;
  /** Terminal width: redrawn lines are cut to it, since a wrapped line would break the redraw. */
  columns?: number;
}

export interface LiveView {
  stop(): void;
}

export function startLiveView(o: LiveViewOptions): LiveView {
  let drawnLines = 0;
  let last = '';
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const draw = (lines: string[]) => {
    const text = lines.join('\n');
    if (o.redraw) {
      const width = (o.columns ?? 0) > 1 ? (o.columns ?? 0) - 1 : Number.POSITIVE_INFINITY;
      const shown = lines.map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l));
      // Up over the previous block, clear to the end of the screen, draw again.
      const up = drawnLines > 0 ? `\x1b[${drawnLines}F\x1b[J` : '';
      o.write(`${up}${o.header ? `${o.header()}\n` : ''}${shown.join('\n')}\n`);
      drawnLines = shown.length + (o.header ? 1 : 0);
    } else {
      // Not a terminal: only the rows that changed, each on a line of its own.
      const before = new Set(last.split('\n'));
      const stamp = new Date().toISOString().slice(11, 19);
      for (const line of lines) if (!before.has(line)) o.write(`${stamp} ${line}\n`);
    }
    last = text;
  };
  const tick = async () => {
    try {
      const devices = (await o.fleet.listDevices()) as DeviceView[];
      if (stopped) return;
      o.onDevices?.(devices);
      draw(fleetTable(devices));
    } catch (err) {
      if (!stopped) draw([`(edge unreachable: ${errorMessage(err)})`]);
    }
    if (!stopped) timer = setTimeout(() => void tick(), o.intervalMs);
  };
  void tick();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
