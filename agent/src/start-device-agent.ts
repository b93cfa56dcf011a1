// Builds a DeviceAgent from its config: cache, registry fetcher, signed index, package and policy verification.
import { join } from 'node:path';
import { type ProbeType, verifyTrustedPolicy } from '@bpfleet/sdk/policy';
import type { DeviceInventory } from '@bpfleet/sdk/protocol';
import { ArtifactCache } from './artifacts/artifact-cache.js';
import { SignedPackageVerifier } from './artifacts/package-verifier.js';
import { RegistryFetcher } from './artifacts/registry-fetcher.js';
import { RegistryHttp } from './artifacts/registry-http.js';
import { unpackPackage } from './artifacts/unpack-package.js';
import type { AgentConfig } from './config/agent-config.js';
import { type AgentState, DeviceAgent, initialAgentState } from './device-agent.js';
import { ChannelMemory } from './index/channel-memory.js';
import { RegistryIndex } from './index/registry-index.js';
import type { Logger } from './logger.js';
import type { AgentMetrics } from './metrics/agent-metrics.js';
import type { HostProbe, Loader } from './ports.js';
import { StateFile } from './state/state-file.js';
import { renewDeviceCertificate } from './tls/certificate-renewal.js';
import { openDeviceTrustRoot } from './trust-root/device-trust-root.js';

/** What differs between a real device and a simulated one: the kernel side. */
export interface DeviceParts {
  loader: Loader;
  probe: HostProbe;
  logger: Logger;
  metrics: AgentMetrics;
  /** The real device's inventory and probe (simulated devices have none: every selector holds for them). */
  inventory?: DeviceInventory;
  probeType?: ProbeType;
}

export async function startDeviceAgent(config: AgentConfig, parts: DeviceParts): Promise<DeviceAgent> {
  const cache = new ArtifactCache(join(config.dataDir, 'cache'));
  await cache.init();
  // The device's own keep-alive connection to the registry, for the index, the blobs and the bundles.
  const http = new RegistryHttp(config.registry.tls ? { tls: config.registry.tls } : {});
  // Before any verifier runs: the keys are those of the newest root this device verified (trust-root/).
  const trustRoot = await openDeviceTrustRoot(config, parts.logger);
  let renewal: { stop(): void } | undefined;
  const policyTrust = {
    operatorKeys: config.trust.operatorKeys,
    // Read at each verification: a new root of trust changes it in place (trust-root/live-trust.ts).
    get operatorThreshold() {
      return config.trust.operatorThreshold ?? 1;
    },
    edgeKeys: config.trust.edgeKeys ?? [],
  };
  const device = await DeviceAgent.start({
    config,
    ports: {
      fetcher: new RegistryFetcher(config.registry.url, cache, {
        attempts: 4,
        backoff: { initialMs: 500, maxMs: 10_000 },
        stallTimeoutMs: config.registry.stallTimeoutSeconds * 1000,
        minBytesPerSecond: config.registry.minBytesPerSecond,
        logger: parts.logger,
        http,
      }),
      verifier: new SignedPackageVerifier({ publishers: config.trust.publishers }, unpackPackage),
      probe: parts.probe,
      loader: parts.loader,
    },
    createIndex: (lastSerial, onSerial) =>
      new RegistryIndex({
        registryUrl: config.registry.url,
        registryKeys: config.trust.registryKeys,
        lastSerial,
        onSerial,
        http,
        publishers: config.trust.publishers,
        channels: ChannelMemory.open(join(config.dataDir, 'channels.json')),
      }),
    // k of n operators, or the edge key within the operators' grants for this device's groups.
    verifyPolicy: async (bundle, now) =>
      (await verifyTrustedPolicy(bundle, policyTrust, now, config.groups)).policy,
    state: new StateFile<AgentState>(join(config.dataDir, 'state.json'), initialAgentState),
    metrics: parts.metrics,
    logger: parts.logger,
    ...(parts.inventory && { inventory: parts.inventory }),
    ...(parts.probeType && { probeType: parts.probeType }),
    release: () => {
      http.close();
      trustRoot?.stop();
      renewal?.stop();
    },
    ...(trustRoot && { sideTopics: trustRoot.sideTopics }),
  });
  trustRoot?.attach(device);
  renewal = renewDeviceCertificate(config, device.session, http, parts.logger);
  return device;
}
