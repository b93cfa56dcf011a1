// `bpfleet fleet device disable|enable <id>`: an admin shuts a device out of the broker (session closed) or back in.
import type { FleetClient } from '../../registry-client/fleet-client.js';
import { printResult } from '../output.js';

export type DeviceStateAction = 'disable' | 'enable';

export const DEVICE_STATE_HELP = `
Examples:
  bpfleet fleet device cpe-17                # detail and events
  bpfleet fleet device disable cpe-17        # logins refused, live MQTT session closed at once
  bpfleet fleet device enable cpe-17 --json  # let it back in`;

export function isDeviceStateAction(word: string): word is DeviceStateAction {
  return word === 'disable' || word === 'enable';
}

export async function setDeviceState(
  client: FleetClient,
  action: DeviceStateAction,
  id: string,
  options: { json?: boolean },
): Promise<void> {
  const result = await client.setDeviceState(id, action);
  printResult(options, result, () =>
    result.state === 'DISABLED'
      ? `device ${id}: DISABLED (broker logins refused, its session closed)`
      : `device ${id}: ENABLED (it may log in again)`,
  );
}
