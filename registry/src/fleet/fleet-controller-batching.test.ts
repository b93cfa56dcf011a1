// The controller stores a burst of device messages in one batch and holds the broker's acknowledgements until
// it is stored; a batch that fails is stored message by message.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deviceTopic } from '@bpfleet/sdk/protocol';
import { until } from '@bpfleet/sdk/test-kit';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { issueSecret } from '../broker/credentials.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../broker/embedded-broker.js';
import { createFleetAuthenticator } from './fleet-authenticator.js';
import { createFleetController, type FleetController } from './fleet-controller.js';
import type { FleetStore } from './fleet-store.js';
import { createSqliteFleetStore } from './sqlite-fleet-store.js';

const FLEET = 'acme';
const DEVICES = ['cpe-1', 'cpe-2', 'cpe-3'];
let broker: EmbeddedBroker;
let inner: FleetStore;
let controller: FleetController;
let ctlClient: MqttClient;
const clients: MqttClient[] = [];
const warnings: string[] = [];
const secret = issueSecret();
/** Per batch: how many writes it held, and whether the controller's socket was corked while it ran. */
const batches: Array<{ writes: number; corked: boolean }> = [];
let failNextBatch = false;

async function connect(username: string, password: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, {
    clientId: username,
    username,
    password,
    reconnectPeriod: 0,
    clean: false,
  });
  clients.push(client);
  return client;
}

before(async () => {
  inner = createSqliteFleetStore(new Database(':memory:'));
  for (const id of DEVICES) inner.registerDevice(id, ['gateways'], secret.secretHash, new Date());
  // The real store, watched: each batch records its size and the state of the controller's socket.
  let writes = 0;
  const store: FleetStore = {
    ...inner,
    batch(work) {
      writes = 0;
      try {
        if (failNextBatch) {
          failNextBatch = false;
          throw new Error('disk I/O error');
        }
        return inner.batch(work);
      } finally {
        batches.push({ writes, corked: (ctlClient.stream.writableCorked ?? 0) > 0 });
      }
    },
    recordEvent: (...a) => {
      writes++;
      inner.recordEvent(...a);
    },
  };
  const ctl = issueSecret();
  broker = await startEmbeddedBroker({
    authenticator: createFleetAuthenticator(FLEET, inner, {
      name: 'bpfleet-controller',
      secretHash: ctl.secretHash,
    }),
  });
  ctlClient = await connect('bpfleet-controller', ctl.secret);
  controller = createFleetController({
    fleet: FLEET,
    mqtt: ctlClient,
    store,
    logger: { info: () => {}, warn: (m) => warnings.push(m) },
  });
  await controller.start();
});

after(async () => {
  await controller.stop();
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await broker.close();
});

const event = (n: number) => JSON.stringify({ time: `t${n}`, state: 'QUEUED', deployment: 'fw' });

test('a burst is stored in batches while the acknowledgements wait in the corked socket', async () => {
  const devices = await Promise.all(DEVICES.map((id) => connect(id, secret.secret)));
  batches.length = 0;
  await Promise.all(
    devices.flatMap((client, i) =>
      Array.from({ length: 20 }, (_, n) =>
        client.publishAsync(deviceTopic(FLEET, DEVICES[i]!, 'events'), event(n), { qos: 1 }),
      ),
    ),
  );
  await until(
    () => DEVICES.every((id) => inner.events(id, 100).length === 20),
    '20 events stored per device',
    3000,
  );
  assert.equal(
    batches.reduce((sum, b) => sum + b.writes, 0),
    60,
  );
  assert.ok(batches.length < 60, `${batches.length} batches for 60 messages`);
  assert.ok(
    batches.every((b) => b.corked),
    'every batch ran with the acknowledgements held',
  );
  assert.equal(ctlClient.stream.writableCorked ?? 0, 0, 'released after the batch');
});

test('a batch that fails is stored one message at a time', async () => {
  const device = await connect('cpe-1', secret.secret);
  const before = inner.events('cpe-1', 500).length;
  failNextBatch = true;
  await device.publishAsync(deviceTopic(FLEET, 'cpe-1', 'events'), event(99), { qos: 1 });
  await until(() => inner.events('cpe-1', 500).length === before + 1, 'one more event of cpe-1', 3000);
  assert.ok(
    warnings.some((w) => /disk I\/O error.*one by one/.test(w)),
    warnings.join('\n'),
  );
  assert.equal(ctlClient.stream.writableCorked ?? 0, 0);
});
