// Waits on the fleet API for a device to reach a state, and says what it last saw when it does not.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FleetClient } from '@bpfleet/sdk/registry-client';
import { type DeviceView, deploymentCounters } from './fleet-view.js';

export type ProgramView = DeviceView['programs'][number];

export async function deviceView(fleet: FleetClient, id: string): Promise<DeviceView | undefined> {
  return ((await fleet.listDevices()) as DeviceView[]).find((d) => d.id === id);
}

/** Polls every 200 ms until `check` holds for the device; throws with `what` and the program's last state. */
export async function waitForDevice(
  fleet: FleetClient,
  id: string,
  deployment: string,
  what: string,
  check: (device: DeviceView, program: ProgramView | undefined) => boolean,
  timeoutMs = 20_000,
): Promise<DeviceView> {
  const deadline = Date.now() + timeoutMs;
  let last: DeviceView | undefined;
  for (;;) {
    last = await deviceView(fleet, id);
    if (
      last &&
      check(
        last,
        last.programs.find((p) => p.id === deployment),
      )
    )
      return last;
    if (Date.now() > deadline) {
      const p = last?.programs.find((q) => q.id === deployment);
      const seen = p
        ? `${p.package}@${p.version ?? '-'} ${p.status}${p.lastError ? ` (${p.lastError.code}: ${p.lastError.message})` : ''}`
        : `no report of ${deployment}`;
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; last seen: ${seen}`);
    }
    await sleep(200);
  }
}

/** One counter of a deployment from the device's latest telemetry (`packets{slot=0}`). */
export const counter = (device: DeviceView, deployment: string, name: string): number | undefined =>
  deploymentCounters(device, deployment).get(name);
