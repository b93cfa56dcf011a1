// The topics one device uses, from the protocol's single definition in sdk/protocol.
import { deviceTopic, groupDesiredTopic } from '@bpfleet/sdk/protocol';

export interface DeviceTopics {
  device: string;
  group: (name: string) => string;
  reported: string;
  presence: string;
  events: string;
  telemetry: string;
}

export function deviceTopics(fleet: string, deviceId: string): DeviceTopics {
  return {
    device: deviceTopic(fleet, deviceId, 'desired'),
    group: (name) => groupDesiredTopic(fleet, name),
    reported: deviceTopic(fleet, deviceId, 'reported'),
    presence: deviceTopic(fleet, deviceId, 'presence'),
    events: deviceTopic(fleet, deviceId, 'events'),
    telemetry: deviceTopic(fleet, deviceId, 'telemetry'),
  };
}
