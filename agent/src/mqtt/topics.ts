// The MQTT topic names of the bpfleet v1 protocol (design.md, "MQTT protocol").

export interface DeviceTopics {
  device: string;
  group: (name: string) => string;
  reported: string;
  presence: string;
  events: string;
  telemetry: string;
}

export function deviceTopics(fleet: string, deviceId: string): DeviceTopics {
  const dev = `bpfleet/v1/${fleet}/dev/${deviceId}`;
  return {
    device: `${dev}/desired`,
    group: (name) => `bpfleet/v1/${fleet}/grp/${name}/desired`,
    reported: `${dev}/reported`,
    presence: `${dev}/presence`,
    events: `${dev}/events`,
    telemetry: `${dev}/telemetry`,
  };
}
