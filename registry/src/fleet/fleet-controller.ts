// The edge's MQTT side: ingests what devices report into the FleetStore and publishes desired state.

import { errorMessage } from '@bpfleet/sdk/errors';
import {
  deviceTopic,
  fleetDeviceFilter,
  groupDesiredTopic,
  isProgramEventPayload,
  parseAgentEvent,
  parsePresence,
  parseProgramEventBatch,
  parseReportedState,
  parseTelemetry,
  parseTopic,
} from '@bpfleet/sdk/protocol';
import type { MqttClient } from 'mqtt';
import type { FleetStore } from './fleet-store.js';
import type { ProgramEventStore } from './program-events/program-event-store.js';

export interface FleetLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface FleetControllerOptions {
  fleet: string;
  /** A connected client with the controller's broker identity. */
  mqtt: MqttClient;
  store: FleetStore;
  /** Where the records of devices' event streams go (absent: they are ignored). */
  programEvents?: ProgramEventStore;
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

  // Messages of one turn of the event loop are stored in one transaction. The broker's acknowledgements
  // (PUBACK, written by mqtt.js as each message is handled) wait in the corked socket until that commit: a
  // crash before it leaves them unacknowledged, and the broker redelivers them to this persistent session.
  let pending: Array<{ device: string; write: () => void }> = [];
  const corked = new Set<typeof mqtt.stream>();
  const flush = () => {
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    try {
      store.batch(() => {
        for (const { write } of batch) write();
      });
    } catch (err) {
      // One bad write must not cost the others: store them one by one, as they would be without batching.
      logger.warn(
        `fleet: storing ${batch.length} device messages at once failed (${errorMessage(err)}); one by one`,
      );
      for (const { device, write } of batch) {
        try {
          write();
        } catch (e) {
          logger.warn(`fleet: storing a message of ${device} failed: ${errorMessage(e)}`);
        }
      }
    }
    for (const stream of corked) stream.uncork();
    corked.clear();
    for (const { device } of batch) options.onDeviceChanged?.(device);
  };
  const enqueue = (device: string, write: () => void) => {
    if (pending.length === 0) setImmediate(flush);
    const stream = mqtt.stream;
    if (!corked.has(stream)) {
      stream.cork();
      corked.add(stream);
    }
    pending.push({ device, write });
  };

  const onMessage = (topic: string, payload: Buffer) => {
    const parsed = parseTopic(topic);
    if (parsed?.scope !== 'dev' || parsed.fleet !== fleet) return;
    const device = parsed.device;
    if (!store.hasDevice(device)) {
      logger.warn(`fleet: message on ${topic} from unregistered device ${device} ignored`);
      return;
    }
    // A retained message cleared by an empty payload is not a report.
    if (payload.length === 0) return;
    const at = now();
    try {
      if (parsed.kind === 'reported') {
        const reported = parseReportedState(payload);
        if (reported.device !== device) throw new Error(`payload names device ${reported.device}`);
        enqueue(device, () => store.recordReported(device, reported, at));
      } else if (parsed.kind === 'presence') {
        const presence = parsePresence(payload);
        enqueue(device, () => store.recordPresence(device, presence, at));
      } else if (parsed.kind === 'events' && isProgramEventPayload(payload)) {
        const batch = parseProgramEventBatch(payload);
        const programEvents = options.programEvents;
        if (programEvents) enqueue(device, () => programEvents.record(device, batch, at));
      } else if (parsed.kind === 'events') {
        const event = parseAgentEvent(payload);
        enqueue(device, () => store.recordEvent(device, event, at));
      } else if (parsed.kind === 'telemetry') {
        const telemetry = parseTelemetry(payload);
        enqueue(device, () => store.recordTelemetry(device, telemetry, at));
      }
    } catch (err) {
      // Bad input from one device changes nothing stored; it is logged with its origin.
      logger.warn(`fleet: ${topic}: ${errorMessage(err)}`);
    }
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
      // Stored before the connection ends: ending it sends whatever the socket holds, acknowledgements included.
      if (pending.length > 0) flush();
      await mqtt.unsubscribeAsync(filters).catch(() => undefined);
    },
  };
}
