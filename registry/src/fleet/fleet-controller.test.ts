// The controller over a real embedded broker: devices report, bad payloads change nothing, desired arrives.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deviceTopic, groupDesiredTopic, type ReportedState } from '@bpfleet/sdk/protocol';
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
let broker: EmbeddedBroker;
let store: FleetStore;
let controller: FleetController;
let ctlClient: MqttClient;
const clients: MqttClient[] = [];
const warnings: string[] = [];
const changed: string[] = [];
const deviceSecret = issueSecret();

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
  store = createSqliteFleetStore(new Database(':memory:'));
  store.registerDevice('cpe-1', ['gateways'], deviceSecret.secretHash, new Date());
  const ctl = issueSecret();
  broker = await startEmbeddedBroker({
    authenticator: createFleetAuthenticator(FLEET, store, {
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
    onDeviceChanged: (id) => changed.push(id),
  });
  await controller.start();
});

after(async () => {
  await controller.stop();
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await broker.close();
});

test('device reports land in the store; bad payloads are logged and change nothing', async () => {
  const device = await connect('cpe-1', deviceSecret.secret);
  const reported: ReportedState = {
    device: 'cpe-1',
    fleet: FLEET,
    time: new Date().toISOString(),
    policies: {},
    policyErrors: {},
    programs: [
      { id: 'fw', package: 'acme/fw', wanted: '1.0.0', source: 's', status: 'ATTACHED', version: '1.0.0' },
    ],
  };
  await device.publishAsync(deviceTopic(FLEET, 'cpe-1', 'presence'), 'online', { qos: 1, retain: true });
  await device.publishAsync(deviceTopic(FLEET, 'cpe-1', 'reported'), JSON.stringify(reported), { qos: 1 });
  await device.publishAsync(
    deviceTopic(FLEET, 'cpe-1', 'events'),
    JSON.stringify({ time: 't', state: 'ATTACHED', deployment: 'fw' }),
    { qos: 1 },
  );
  await until(
    () => store.events('cpe-1', 10).length === 1 && store.getDevice('cpe-1')?.reported !== null,
    'the first event and report of cpe-1',
    2000,
  );
  assert.equal(store.getDevice('cpe-1')?.presence, 'online');
  assert.deepEqual(store.getDevice('cpe-1')?.reported, reported);

  await device.publishAsync(deviceTopic(FLEET, 'cpe-1', 'reported'), '{"device": 1', { qos: 1 });
  await device.publishAsync(
    deviceTopic(FLEET, 'cpe-1', 'reported'),
    JSON.stringify({ ...reported, device: 'cpe-2' }),
    { qos: 1 },
  );
  await until(() => warnings.length >= 2, 'two warnings', 2000);
  assert.match(warnings[0] ?? '', /reported: reported state: not valid JSON/);
  assert.match(warnings[1] ?? '', /payload names device cpe-2/);
  assert.deepEqual(store.getDevice('cpe-1')?.reported, reported);
  assert.ok(changed.includes('cpe-1'));
});

test('a drift the device reports is stored, listed by status and kept in the event history', async () => {
  const device = await connect('cpe-1', deviceSecret.secret);
  const gone = { code: 'DRIFT_TARGET_MISSING', message: 'check fw: interface wan0 is gone' };
  const reported: ReportedState = {
    device: 'cpe-1',
    fleet: FLEET,
    time: new Date().toISOString(),
    policies: {},
    policyErrors: {},
    programs: [
      {
        id: 'fw',
        package: 'acme/fw',
        wanted: '1.0.0',
        source: 's',
        status: 'DRIFTED',
        version: '1.0.0',
        lastError: gone,
      },
    ],
  };
  const before = store.events('cpe-1', 100).length;
  await device.publishAsync(deviceTopic(FLEET, 'cpe-1', 'reported'), JSON.stringify(reported), { qos: 1 });
  await device.publishAsync(
    deviceTopic(FLEET, 'cpe-1', 'events'),
    JSON.stringify({ time: 't', state: 'DRIFTED', deployment: 'fw', reason: gone }),
    { qos: 1 },
  );
  await until(() => store.events('cpe-1', 100).length === before + 1, 'one more event of cpe-1', 2000);
  await until(
    () => store.getDevice('cpe-1')?.reported?.programs[0]?.status === 'DRIFTED',
    'cpe-1 reported DRIFTED',
    2000,
  );
  assert.deepEqual(store.getDevice('cpe-1')?.reported, reported);
  assert.deepEqual(
    store.listDevices({ status: 'drifted' }).map((d) => d.id),
    ['cpe-1'],
  );
  assert.equal(store.events('cpe-1', 1)[0]?.event.state, 'DRIFTED');
});

test('desired state is published retained and reaches devices on subscribe', async () => {
  await controller.publishDesired({ group: 'gateways' }, 'signed-policy-bytes');
  const device = await connect('cpe-1', deviceSecret.secret);
  const got = new Promise<string>((resolve) => device.once('message', (_t, p) => resolve(p.toString())));
  await device.subscribeAsync(groupDesiredTopic(FLEET, 'gateways'), { qos: 1 });
  assert.equal(await got, 'signed-policy-bytes');
  await controller.clearDesired({ group: 'gateways' });
});
