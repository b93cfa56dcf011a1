// Wires a device's TrustRoot: its chain files, the edge as the source, the MQTT announcement, events and reconciles.
import { join } from 'node:path';
import { rootTopic } from '@bpfleet/sdk/protocol';
import type { AgentConfig } from '../config/agent-config.js';
import type { DeviceAgent } from '../device-agent.js';
import type { Logger } from '../logger.js';
import { edgeRootSource, RootChainFiles } from './root-sources.js';
import { TrustRoot } from './trust-root.js';

export interface DeviceTrustRoot {
  /** For DeviceAgentOptions.sideTopics. */
  sideTopics: Record<string, (payload: Buffer) => void>;
  /** Once the device runs: refusals become REJECTED events, a new root a reconcile pass; then asks the edge. */
  attach(device: DeviceAgent): void;
  stop(): void;
}

/** Walks the kept chain before anything verifies; undefined when the config has no root keys. */
export async function openDeviceTrustRoot(
  config: AgentConfig,
  logger: Logger,
): Promise<DeviceTrustRoot | undefined> {
  const root = await TrustRoot.open({
    trust: config.trust,
    files: new RootChainFiles(join(config.dataDir, 'roots')),
    edge: edgeRootSource(config.registry.url),
    logger,
  });
  if (!root) return undefined;
  const topic = rootTopic(config.fleet);
  return {
    sideTopics: { [topic]: (payload) => root.announce(payload) },
    attach(device) {
      root.listen(
        (refusal) => {
          const reason = { code: refusal.code, message: refusal.message };
          device.event({
            time: new Date().toISOString(),
            state: 'REJECTED',
            policy: `${topic} v${refusal.version}`,
            reason,
          });
          // Shown by the edge with the device (fleet device, console) until a newer root is accepted.
          device.setError(topic, reason);
        },
        () => {
          device.setError(topic, undefined);
          void device.reconcile();
        },
      );
      void root.sync();
    },
    stop: () => root.stop(),
  };
}
