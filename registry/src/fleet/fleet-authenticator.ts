// Broker logins for a fleet: registered devices (from the FleetStore) and the controller's own credential.
import type { BrokerIdentity } from '../broker/access-policy.js';
import { type BrokerAuthenticator, createCredentialAuthenticator } from '../broker/credentials.js';
import type { FleetStore } from './fleet-store.js';

export interface ControllerCredential {
  name: string;
  secretHash: string;
}

export function createFleetAuthenticator(
  fleet: string,
  store: FleetStore,
  controller: ControllerCredential,
): BrokerAuthenticator {
  return createCredentialAuthenticator((username) => {
    if (username === controller.name) {
      const identity: BrokerIdentity = { role: 'controller', fleet, name: controller.name };
      return { identity, secretHash: controller.secretHash };
    }
    const device = store.getDevice(username);
    // A disabled device is refused like an unknown one until an admin enables it.
    if (!device || device.disabled) return undefined;
    return {
      identity: { role: 'device', fleet, deviceId: device.id, groups: device.groups },
      secretHash: device.secretHash,
    };
  });
}
