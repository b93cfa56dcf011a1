// One access-control suite, run against the embedded broker and against a real mosquitto.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { deviceTopic, fleetDeviceFilter, groupDesiredTopic } from '@bpfleet/sdk/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { BrokerIdentity } from './access-policy.js';
import { createCredentialAuthenticator, issueSecret, usernameOf } from './credentials.js';
import { startEmbeddedBroker } from './embedded-broker.js';
import { startMosquitto } from './testing/mosquitto-process.js';

const FLEET = 'acme';
const controller: BrokerIdentity = { role: 'controller', fleet: FLEET, name: 'bpfleet-controller' };
const devA: BrokerIdentity = { role: 'device', fleet: FLEET, deviceId: 'dev-a', groups: ['gateways'] };
const devB: BrokerIdentity = { role: 'device', fleet: FLEET, deviceId: 'dev-b', groups: ['phones'] };
const credentials = [controller, devA, devB].map((identity) => ({ identity, ...issueSecret() }));
const secretOf = (identity: BrokerIdentity) =>
  credentials.find((c) => usernameOf(c.identity) === usernameOf(identity))!.secret;

interface BrokerUnderTest {
  url: string;
  close(): Promise<void>;
}

const brokers: Record<string, () => Promise<BrokerUnderTest>> = {
  embedded: async () =>
    startEmbeddedBroker({
      authenticator: createCredentialAuthenticator((username) =>
        credentials.find((c) => usernameOf(c.identity) === username),
      ),
    }),
  mosquitto: async () => {
    const process = await startMosquitto(FLEET, credentials);
    return { url: process.url, close: () => process.stop() };
  },
};

async function connectAs(
  url: string,
  identity: BrokerIdentity,
  password = secretOf(identity),
): Promise<MqttClient> {
  const client = mqtt.connect(url, {
    clientId: usernameOf(identity),
    username: usernameOf(identity),
    password,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
    client.once('close', () => reject(new Error(`connection of ${usernameOf(identity)} closed`)));
  });
  return client;
}

/** Messages a client receives, with a way to wait for one. */
function inbox(client: MqttClient) {
  const messages: Array<{ topic: string; payload: string }> = [];
  const waiters: Array<() => void> = [];
  client.on('message', (topic, payload) => {
    messages.push({ topic, payload: payload.toString() });
    for (const w of waiters.splice(0)) w();
  });
  return {
    messages,
    async waitFor(predicate: (m: { topic: string; payload: string }) => boolean): Promise<void> {
      while (!messages.some(predicate)) await new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}

for (const [name, start] of Object.entries(brokers)) {
  describe(`broker access control (${name})`, () => {
    let broker: BrokerUnderTest;
    const clients: MqttClient[] = [];
    const connect = async (identity: BrokerIdentity, password?: string) => {
      const client = await connectAs(broker.url, identity, password);
      clients.push(client);
      return client;
    };

    before(async () => {
      broker = await start();
    });
    after(async () => {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await broker.close();
    });

    test('a device with a wrong secret or another client id is refused', async () => {
      await assert.rejects(connectAs(broker.url, devA, 'wrong'));
      const impostor = mqtt.connect(broker.url, {
        clientId: 'dev-b',
        username: 'dev-a',
        password: secretOf(devA),
        reconnectPeriod: 0,
      });
      clients.push(impostor);
      // aedes refuses the mismatch (CONNACK 2); mosquitto's dynamic-security client has its client id fixed (CONNACK 5).
      const outcome = await new Promise<string>((resolve) => {
        impostor.once('connect', () => resolve('connected'));
        impostor.once('error', (err) => resolve(`refused: ${err.message}`));
        impostor.once('close', () => resolve('refused: closed'));
      });
      assert.match(outcome, /^refused/, `the impostor ${outcome}`);
    });

    test('devices publish only their own state; only the controller publishes desired', async () => {
      const ctl = await connect(controller);
      const seen = inbox(ctl);
      await ctl.subscribeAsync([fleetDeviceFilter(FLEET, 'reported'), fleetDeviceFilter(FLEET, 'desired')], {
        qos: 1,
      });
      const a = await connect(devA);
      const b = await connect(devB);
      // Forbidden first, then an allowed marker on the same connection: order on one connection is kept.
      a.publish(deviceTopic(FLEET, 'dev-b', 'reported'), 'forged by a', { qos: 0 });
      a.publish(deviceTopic(FLEET, 'dev-a', 'desired'), 'self-granted desired', { qos: 0 });
      a.publish(deviceTopic(FLEET, 'dev-a', 'reported'), 'marker a', { qos: 0 });
      await new Promise<void>((resolve) => {
        a.once('close', () => resolve());
        seen.waitFor((m) => m.payload === 'marker a').then(resolve);
      });
      await b.publishAsync(deviceTopic(FLEET, 'dev-b', 'reported'), 'real b', { qos: 1 });
      await seen.waitFor((m) => m.payload === 'real b');
      assert.deepEqual(
        seen.messages.filter((m) => m.payload === 'forged by a' || m.payload === 'self-granted desired'),
        [],
      );
      await ctl.publishAsync(deviceTopic(FLEET, 'dev-b', 'desired'), 'policy for b', { qos: 1 });
      await seen.waitFor((m) => m.payload === 'policy for b');
    });

    test("devices read only their own and their groups' desired topics", async () => {
      const ctl = await connect(controller);
      const retained = { retain: true, qos: 1 as const };
      await ctl.publishAsync(deviceTopic(FLEET, 'dev-a', 'desired'), 'for a', retained);
      await ctl.publishAsync(groupDesiredTopic(FLEET, 'gateways'), 'for gateways', retained);
      await ctl.publishAsync(deviceTopic(FLEET, 'dev-b', 'desired'), 'for b', retained);
      await ctl.publishAsync(groupDesiredTopic(FLEET, 'phones'), 'for phones', retained);
      const b = await connect(devB);
      const seen = inbox(b);
      for (const topic of [
        deviceTopic(FLEET, 'dev-b', 'desired'),
        groupDesiredTopic(FLEET, 'phones'),
        deviceTopic(FLEET, 'dev-a', 'desired'),
        groupDesiredTopic(FLEET, 'gateways'),
        `bpfleet/v1/${FLEET}/dev/+/desired`,
        `bpfleet/v1/${FLEET}/#`,
      ]) {
        // aedes refuses with SUBACK 0x80 (an error in MQTT.js); mosquitto grants and filters delivery.
        await b.subscribeAsync(topic, { qos: 1 }).catch(() => undefined);
      }
      await ctl.publishAsync(deviceTopic(FLEET, 'dev-b', 'desired'), 'marker', { qos: 1 });
      await seen.waitFor((m) => m.payload === 'marker');
      assert.deepEqual([...new Set(seen.messages.map((m) => m.payload))].sort(), [
        'for b',
        'for phones',
        'marker',
      ]);
    });
  });
}
