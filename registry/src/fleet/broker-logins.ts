// Device logins on the broker beyond the FleetStore: a removed or disabled device's live session closed, and for
// mosquitto's dynamic-security plugin the login itself added, disabled, enabled and removed there.
import type { MqttClient } from 'mqtt';
import type { EmbeddedBroker } from '../broker/embedded-broker.js';
import { createDynsecAdmin } from '../broker/mosquitto-dynsec.js';

/** A removed credential alone stops only new logins: the session that is already open must be closed too. */
export interface BrokerLogins {
  /** Makes a newly registered device's login known to the broker. */
  add(deviceId: string, groups: readonly string[], secret: string): Promise<void>;
  /** Removes the device's login and closes its live session at once. */
  remove(deviceId: string): Promise<void>;
  /** Refuses the device's logins and closes its live session at once; `enable` lets it back in. */
  disable(deviceId: string): Promise<void>;
  enable(deviceId: string): Promise<void>;
}

export function embeddedLogins(broker: EmbeddedBroker): BrokerLogins {
  // The embedded broker authenticates against the FleetStore: adding is done there, removal needs the kick.
  return {
    add: async () => {},
    remove: async (deviceId) => void (await broker.disconnect(deviceId)),
    // The store says disabled before this runs, so the device cannot log straight back in.
    disable: async (deviceId) => void (await broker.disconnect(deviceId)),
    enable: async () => {},
  };
}

/** mosquitto with renderDynsecConfig's config: the controller's own connection sends the plugin's commands. */
export function dynsecLogins(fleet: string, controller: MqttClient): BrokerLogins {
  const admin = createDynsecAdmin(controller);
  return {
    add: (deviceId, groups, secret) => admin.createDevice(fleet, deviceId, groups, secret),
    remove: (deviceId) => admin.deleteDevice(deviceId),
    disable: (deviceId) => admin.disableClient(deviceId),
    enable: (deviceId) => admin.enableClient(deviceId),
  };
}
