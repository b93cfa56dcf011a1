// Wires the event streams of a real device: its sinks (MQTT events topic, JSON lines), counters and budget.
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { AgentConfig } from '../config/agent-config.js';
import { DeploymentMetaStore } from '../deployments/deployment-meta.js';
import type { Logger } from '../logger.js';
import { EventMetrics } from '../metrics/event-metrics.js';
import { deviceTopics } from '../mqtt/topics.js';
import type { EventSink } from './event-sink.js';
import { EventStreams } from './event-streams.js';
import { DEFAULT_EVENTS_CONFIG } from './events-config.js';
import { JsonLinesSink } from './jsonl-sink.js';
import { MqttEventSink } from './mqtt-event-sink.js';

export interface EventSession {
  readonly connected: boolean;
  publish(topic: string, payload: string): void;
}

export function startEventStreams(
  config: AgentConfig,
  parts: { session: EventSession; registry: Registry; logger: Logger },
): EventStreams {
  const events = config.events ?? DEFAULT_EVENTS_CONFIG;
  const metrics = new EventMetrics(parts.registry);
  const topic = deviceTopics(config.fleet, config.deviceId).events;
  const sinks: EventSink[] = [
    new MqttEventSink({
      batchRecords: events.batchRecords,
      metrics,
      // A batch is published only while the session is up: mqtt.js would otherwise queue it without bound.
      publish: (payload) => {
        if (!parts.session.connected) return false;
        parts.session.publish(topic, payload);
        return true;
      },
    }),
  ];
  if (events.sink) sinks.push(new JsonLinesSink({ ...events.sink, logger: parts.logger }));
  const streams = new EventStreams({
    config: events,
    meta: new DeploymentMetaStore(join(config.dataDir, 'deployments')),
    pinRoot: config.pinRoot,
    sinks,
    metrics,
    logger: parts.logger,
  });
  streams.start();
  return streams;
}
