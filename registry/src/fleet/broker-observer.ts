// What the broker refuses or drops becomes edge metrics and, once per rate episode, an event in the device's history.
import { Counter, type Registry } from 'prom-client';
import type { BrokerObserver } from '../broker/embedded-broker.js';
import type { FleetStore } from './fleet-store.js';

export function createBrokerObserver(store: FleetStore, registry?: Registry): BrokerObserver {
  const registers = registry ? [registry] : [];
  const dropped = new Counter({
    name: 'bpfleet_broker_messages_dropped_total',
    help: 'Device messages the embedded broker dropped (acknowledged, delivered to nobody) by reason',
    labelNames: ['reason'],
    registers,
  });
  const refused = new Counter({
    name: 'bpfleet_broker_packets_refused_total',
    help: 'Packets over their size limit; the connection was closed before their body was read',
    registers,
  });
  return {
    packetRefused: () => refused.inc(),
    messageDropped: () => dropped.inc({ reason: 'rate' }),
    rateLimited(deviceId, episode) {
      // One event when an episode starts; its end (with the count) is the broker's log line.
      if (!episode.started || !store.hasDevice(deviceId)) return;
      const now = new Date();
      store.recordEvent(
        deviceId,
        {
          time: now.toISOString(),
          state: 'REJECTED',
          reason: {
            code: 'RATE_LIMITED',
            message: `broker: device ${deviceId} is over its message rate: its messages are dropped`,
          },
        },
        now,
      );
    },
  };
}
