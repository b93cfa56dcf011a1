// `bpfleet fleet device disable|enable|remove <id>`: an admin shuts a device out of the broker (session closed),
// lets it back in, or forgets it.
import type { FleetClient } from '../../registry-client/fleet-client.js';
import { printResult } from '../output.js';

export type DeviceStateAction = 'disable' | 'enable' | 'remove';

export const DEVICE_STATE_HELP = `
Examples:
  bpfleet fleet device cpe-17                # detail and events
  bpfleet fleet device disable cpe-17        # logins refused, live MQTT session closed at once
  bpfleet fleet device enable cpe-17 --json  # let it back in
  bpfleet fleet device remove cpe-17         # forget it: its login stops working, session closed`;

export function isDeviceStateAction(word: string): word is DeviceStateAction {
  return word === 'disable' || word === 'enable' || word === 'remove';
}

export async function setDeviceState(
  client: FleetClient,
  action: DeviceStateAction,
  id: string,
  options: { json?: boolean },
): Promise<void> {
  if (action === 'remove') {
    await client.removeDevice(id);
    printResult(options, { id, removed: true }, () => `device ${id}: removed (its login no longer works)`);
    return;
  }
  const result = await client.setDeviceState(id, action);
  printResult(options, result, () =>
    result.state === 'DISABLED'
      ? `device ${id}: DISABLED (broker logins refused, its session closed)`
      : `device ${id}: ENABLED (it may log in again)`,
  );
}
