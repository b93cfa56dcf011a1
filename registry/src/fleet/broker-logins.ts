// Closing a removed device's live broker session, on the embedded broker or on mosquitto's dynamic-security plugin.
import type { MqttClient } from 'mqtt';
import type { EmbeddedBroker } from '../broker/embedded-broker.js';
import { createDynsecAdmin } from '../broker/mosquitto-dynsec.js';

/** A removed credential alone stops only new logins: the session that is already open must be closed too. */
export interface DeviceSessions {
  /** Removes the device from the broker's logins and closes its session at once. */
  remove(deviceId: string): Promise<void>;
}

export function embeddedSessions(broker: EmbeddedBroker): DeviceSessions {
  // The embedded broker authenticates against the FleetStore, where the device is already gone.
  return { remove: async (deviceId) => void (await broker.disconnect(deviceId)) };
}

/** mosquitto with renderDynsecConfig's config: the controller's own connection sends the plugin's commands. */
export function dynsecSessions(controller: MqttClient): DeviceSessions {
  const admin = createDynsecAdmin(controller);
  return { remove: (deviceId) => admin.deleteDevice(deviceId) };
}
