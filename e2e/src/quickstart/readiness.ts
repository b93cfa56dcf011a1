// When a run counts as working: the program reports ATTACHED and its counters rise between two telemetry samples.
import { type DeviceView, deploymentCounters } from './fleet-view.js';

export interface Readiness {
  /** Feeds a fresh device list; returns true once ready. */
  observe(devices: DeviceView[]): boolean;
  /** What is still missing, for a timeout message. */
  missing(): string;
}

export function createReadiness(deviceId: string, deployment: string): Readiness {
  let first: { time: string; total: number } | undefined;
  let state = `device ${deviceId} has not reported yet`;
  let ready = false;
  return {
    observe(devices) {
      if (ready) return true;
      const device = devices.find((d) => d.id === deviceId);
      const program = device?.programs.find((p) => p.id === deployment);
      if (!device || !program) {
        state = device ? `device ${deviceId} reports no program ${deployment} yet` : state;
        return false;
      }
      if (program.status !== 'ATTACHED') {
        const error = program.lastError ? ` (${program.lastError.code}: ${program.lastError.message})` : '';
        state = `${deployment} is ${program.status}${error}`;
        return false;
      }
      const time = device.telemetry?.time;
      if (!time) {
        state = `${deployment} is ATTACHED, no telemetry yet`;
        return false;
      }
      const total = [...deploymentCounters(device, deployment).values()].reduce((a, b) => a + b, 0);
      if (!first || (time !== first.time && total <= first.total)) first = { time, total };
      else if (time !== first.time && total > first.total) ready = true;
      state = `${deployment} is ATTACHED, counters at ${total}, not seen rising yet`;
      return ready;
    },
    missing: () => state,
  };
}
