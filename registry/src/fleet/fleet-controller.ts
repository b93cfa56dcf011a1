// The edge's MQTT side: ingests what devices report into the FleetStore and publishes desired state.

import { errorMessage } from '@bpfleet/sdk/errors';
import {
  deviceTopic,
  fleetDeviceFilter,
  groupDesiredTopic,
  parseAgentEvent,
  parsePresence,
  parseReportedState,
  parseTelemetry,
  parseTopic,
} from '@bpfleet/sdk/protocol';
import type { MqttClient } from 'mqtt';
import type { FleetStore } from './fleet-store.js';

export interface FleetLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface FleetControllerOptions {
  fleet: string;
  /** A connected client with the controller's broker identity. */
  mqtt: MqttClient;
  store: FleetStore;
  logger: FleetLogger;
  now?: () => Date;
  /** Called after a device's stored state changed (rollouts watch it). */
  onDeviceChanged?: (deviceId: string) => void;
}

export type DesiredTarget = { device: string } | { group: string };

export interface FleetController {
  start(): Promise<void>;
  /** Publishes a signed policy bundle retained, so devices get it on every (re)connect. */
  publishDesired(target: DesiredTarget, payload: Uint8Array | string): Promise<void>;
  /** Removes the retained desired state of a target. */
  clearDesired(target: DesiredTarget): Promise<void>;
  stop(): Promise<void>;
}

export function desiredTopicOf(fleet: string, target: DesiredTarget): string {
  return 'device' in target
    ? deviceTopic(fleet, target.device, 'desired')
    : groupDesiredTopic(fleet, target.group);
}

export function createFleetController(options: FleetControllerOptions): FleetController {
  const { fleet, mqtt, store, logger } = options;
  const now = options.now ?? (() => new Date());
  const filters = (['reported', 'presence', 'events', 'telemetry'] as const).map((kind) =>
    fleetDeviceFilter(fleet, kind),
  );

  const onMessage = (topic: string, payload: Buffer) => {
    const parsed = parseTopic(topic);
    if (parsed?.scope !== 'dev' || parsed.fleet !== fleet) return;
    const device = parsed.device;
    if (!store.getDevice(device)) {
      logger.warn(`fleet: message on ${topic} from unregistered device ${device} ignored`);
      return;
    }
    // A retained message cleared by an empty payload is not a report.
    if (payload.length === 0) return;
    try {
      if (parsed.kind === 'reported') {
        const reported = parseReportedState(payload);
        if (reported.device !== device) throw new Error(`payload names device ${reported.device}`);
        store.recordReported(device, reported, now());
      } else if (parsed.kind === 'presence') {
        store.recordPresence(device, parsePresence(payload), now());
      } else if (parsed.kind === 'events') {
        store.recordEvent(device, parseAgentEvent(payload), now());
      } else if (parsed.kind === 'telemetry') {
        store.recordTelemetry(device, parseTelemetry(payload), now());
      } else {
        return;
      }
    } catch (err) {
      // Bad input from one device changes nothing stored; it is logged with its origin.
      logger.warn(`fleet: ${topic}: ${errorMessage(err)}`);
      return;
    }
    options.onDeviceChanged?.(device);
  };

  return {
    async start() {
      mqtt.on('message', onMessage);
      await mqtt.subscribeAsync(filters, { qos: 1 });
      logger.info(`fleet: controller of ${fleet} subscribed to ${filters.length} device topics`);
    },
    async publishDesired(target, payload) {
      await mqtt.publishAsync(desiredTopicOf(fleet, target), Buffer.from(payload), { qos: 1, retain: true });
    },
    async clearDesired(target) {
      await mqtt.publishAsync(desiredTopicOf(fleet, target), Buffer.alloc(0), { qos: 1, retain: true });
    },
    async stop() {
      mqtt.off('message', onMessage);
      await mqtt.unsubscribeAsync(filters).catch(() => undefined);
    },
  };
}
