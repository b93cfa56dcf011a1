// Starts the edge's fleet side: device store, broker (embedded or external), controller, policies, rollouts.
import { chmod, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { errorMessage } from '@bpfleet/sdk/errors';
import { rootTopic } from '@bpfleet/sdk/protocol';
import {
  readPrivateKey,
  readPublicKey,
  type SigningKey,
  type TrustedKey,
  writeKeyPair,
} from '@bpfleet/sdk/trust';
import Database from 'better-sqlite3';
import mqtt, { type IClientOptions, MqttClient } from 'mqtt';
import type { Registry } from 'prom-client';
import { issueSecret } from '../broker/credentials.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../broker/embedded-broker.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Logger } from '../logger.js';
import { type DeviceCa, loadOrCreateDeviceCa } from '../tls/device-ca.js';
import { dynsecLogins, embeddedLogins } from './broker-logins.js';
import { createBrokerObserver } from './broker-observer.js';
import { createFleetAuthenticator } from './fleet-authenticator.js';
import { createFleetController } from './fleet-controller.js';
import type { FleetDeps } from './fleet-deps.js';
import { registerFleetMetrics } from './fleet-metrics.js';
import { createCatalogPolicyValidator } from './policies/catalog-policy-validator.js';
import { createPolicyService } from './policies/policy-service.js';
import { createSqlitePolicyStore } from './policies/policy-store.js';
import { createTargetPlanner } from './policies/target-planner.js';
import { createSqliteProgramEventStore } from './program-events/sqlite-program-event-store.js';
import { createRolloutRunner } from './rollouts/rollout-runner.js';
import { createSqliteRolloutStore } from './rollouts/rollout-store.js';
import { createSqliteFleetStore } from './sqlite-fleet-store.js';
import { createSqliteTelemetryHistoryStore } from './telemetry-history/sqlite-telemetry-history-store.js';
import { withTelemetryHistory } from './telemetry-history/with-telemetry-history.js';

export interface FleetRuntimeOptions {
  fleet: string;
  dataDir: string;
  catalog: Catalog;
  logger: Logger;
  /** Embedded broker address; ignored when `broker` is set. */
  brokerHost: string;
  brokerPort: number;
  broker?: { url: string; username: string; password: string };
  operatorKeyFiles: string[];
  /** Operator signatures a policy needs (k of n; default 1). */
  operatorThreshold?: number;
  policyTtlMs?: number;
  /** Where the broker's drop and refusal counters are registered (the edge's /metrics). */
  metrics?: Registry;
  /** The external broker is mosquitto with bpfleet's dynamic-security config: removed devices are kicked there. */
  brokerDynsec?: boolean;
  /** The embedded broker serves MQTT over TLS with this certificate and key (PEM), devices' certificates verified
   * by the edge's device CA. */
  tls?: { cert: string; key: string };
  /** Validity of the device certificates this edge issues (default DEVICE_CERT_LIFETIME_MS). */
  deviceCertLifetimeMs?: number;
}

export interface FleetRuntime {
  deps: FleetDeps;
  stop(): Promise<void>;
}

const CONTROLLER = 'bpfleet-controller';
const EDGE_KEY_NAME = 'edge-policy';

/** The edge's own policy key, made once in its data directory (private part mode 0600). */
async function loadOrCreateEdgeKey(dataDir: string): Promise<SigningKey> {
  const path = join(dataDir, `${EDGE_KEY_NAME}.key`);
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  if (!exists) await writeKeyPair(dataDir, EDGE_KEY_NAME);
  await chmod(path, 0o600);
  return readPrivateKey(path);
}

export async function startFleetRuntime(o: FleetRuntimeOptions): Promise<FleetRuntime> {
  const log = {
    info: (message: string, fields?: Record<string, unknown>) => o.logger.info(message, fields),
    warn: (message: string, fields?: Record<string, unknown>) => o.logger.warn(message, fields),
  };
  const db = new Database(join(o.dataDir, 'fleet.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const telemetryHistory = createSqliteTelemetryHistoryStore(db);
  const store = withTelemetryHistory(createSqliteFleetStore(db), telemetryHistory);
  const programEvents = createSqliteProgramEventStore(db);
  const edgeKey = await loadOrCreateEdgeKey(o.dataDir);
  // The edge's own key is not among them: it signs rollout waves, bounded by the operators' grants.
  const operatorKeys: TrustedKey[] = [
    ...(await Promise.all(o.operatorKeyFiles.map((f) => readPublicKey(f)))).map((k) => ({
      keyId: k.keyId,
      publicKeyPem: k.publicKeyPem,
    })),
  ];

  // Made on first use: an edge that never issues a device certificate keeps no CA key.
  let deviceCa: Promise<DeviceCa> | undefined;
  const loadDeviceCa = () => {
    deviceCa ??= loadOrCreateDeviceCa(o.dataDir);
    return deviceCa;
  };
  let broker: EmbeddedBroker | undefined;
  let url: string;
  let login: { username: string; password: string };
  if (o.broker) {
    url = o.broker.url;
    login = { username: o.broker.username, password: o.broker.password };
  } else {
    // The controller's secret lives only in this process: it is made anew at every start.
    const controller = issueSecret();
    broker = await startEmbeddedBroker({
      authenticator: createFleetAuthenticator(o.fleet, store, {
        name: CONTROLLER,
        secretHash: controller.secretHash,
      }),
      host: o.brokerHost,
      port: o.brokerPort,
      logger: log,
      observer: createBrokerObserver(store, o.metrics),
      ...(o.tls && { tls: { ...o.tls, ca: (await loadDeviceCa()).certPem } }),
    });
    url = broker.url;
    login = { username: CONTROLLER, password: controller.secret };
  }
  const clientOptions: IClientOptions = {
    clientId: login.username,
    username: login.username,
    password: login.password,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 2000,
  };
  const local = broker;
  // Over TLS the controller talks to its own broker in process: nothing to verify, no port it must trust.
  const client =
    local && o.tls
      ? await connectLocal(() => local.connectLocal(), clientOptions)
      : await mqtt.connectAsync(url, clientOptions);
  client.on('error', (err) => o.logger.warn(`fleet: mqtt: ${errorMessage(err)}`));
  const brokerLogins = broker
    ? embeddedLogins(broker)
    : o.brokerDynsec
      ? dynsecLogins(o.fleet, client)
      : undefined;

  const policyStore = createSqlitePolicyStore(db);
  const controller = createFleetController({
    fleet: o.fleet,
    mqtt: client,
    store,
    programEvents,
    logger: log,
    onDeviceChanged: () => scheduleTick(),
  });
  const operators = { keys: operatorKeys, threshold: o.operatorThreshold ?? 1 };
  const policies = createPolicyService({
    fleet: o.fleet,
    store: policyStore,
    publish: (target, payload) => controller.publishDesired(target, payload),
    operatorKeys: () => operators.keys,
    // Read at each apply: a published root of trust replaces both (useRootOperators).
    get operatorThreshold() {
      return operators.threshold;
    },
    edgeKey,
    validator: createCatalogPolicyValidator(o.catalog),
    policyTtlMs: o.policyTtlMs ?? 7 * 86_400_000,
    logger: log,
  });
  const rollouts = createRolloutRunner({
    fleet: store,
    store: createSqliteRolloutStore(db),
    actions: policies.rolloutActions(),
    logger: log,
  });
  if (o.metrics) {
    const rolloutStore = createSqliteRolloutStore(db);
    registerFleetMetrics(o.metrics, {
      devices: () => store.listDevices(),
      rollouts: () => rolloutStore.list(),
      rolloutPasses: () => rollouts.passes(),
    });
  }
  // Reports arrive in bursts (a wave of devices): one rollout step per burst is enough.
  let tickPending = false;
  const scheduleTick = () => {
    if (tickPending) return;
    tickPending = true;
    setTimeout(() => {
      tickPending = false;
      void rollouts.tick();
    }, 200).unref();
  };
  await controller.start();
  const republished = await policies.republish();
  if (republished > 0) log.info(`fleet: republished ${republished} stored policies`);
  rollouts.run();

  return {
    deps: {
      fleet: o.fleet,
      store,
      programEvents,
      telemetryHistory,
      policies,
      planTarget: createTargetPlanner(o.catalog, store),
      rollouts,
      edgeKey: { keyId: edgeKey.keyId, publicKeyPem: edgeKey.publicKeyPem },
      brokerUrl: url,
      announceRoot: async (version) => {
        await client.publishAsync(rootTopic(o.fleet), JSON.stringify({ version }), { qos: 1, retain: true });
      },
      useRootOperators: (keys, threshold) => {
        operators.keys = [...keys];
        operators.threshold = threshold;
      },
      brokerLogins,
      deviceCa: loadDeviceCa,
      ...(o.deviceCertLifetimeMs !== undefined && { deviceCertLifetimeMs: o.deviceCertLifetimeMs }),
    },
    async stop() {
      rollouts.stop();
      await controller.stop();
      await client.endAsync();
      await broker?.close();
      db.close();
    },
  };
}

function connectLocal(stream: () => Duplex, options: IClientOptions): Promise<MqttClient> {
  const client = new MqttClient(stream, options);
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}
