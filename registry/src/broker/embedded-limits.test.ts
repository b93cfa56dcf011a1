// The embedded broker's own limits: telemetry/events never retained, per-device message rate with drops counted.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { deviceTopic, fleetDeviceFilter } from '@bpfleet/sdk/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { BrokerIdentity } from './access-policy.js';
import { createCredentialAuthenticator, issueSecret, usernameOf } from './credentials.js';
import { type EmbeddedBroker, startEmbeddedBroker } from './embedded-broker.js';

const FLEET = 'hab';
const identities: BrokerIdentity[] = [
  { role: 'controller', fleet: FLEET, name: 'bpfleet-controller' },
  { role: 'device', fleet: FLEET, deviceId: 'hab-loud', groups: [] },
  { role: 'device', fleet: FLEET, deviceId: 'hab-quiet', groups: [] },
  { role: 'device', fleet: FLEET, deviceId: 'hab-keep', groups: [] },
];
const credentials = identities.map((identity) => ({ identity, ...issueSecret() }));

describe('embedded broker limits', () => {
  let broker: EmbeddedBroker;
  const clients: MqttClient[] = [];
  const dropped: string[] = [];
  const episodes: Array<{ device: string; started: boolean }> = [];
  const connect = async (name: string) => {
    const secret = credentials.find((c) => usernameOf(c.identity) === name)!.secret;
    const client = await mqtt.connectAsync(broker.url, {
      clientId: name,
      username: name,
      password: secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    clients.push(client);
    return client;
  };

  before(async () => {
    broker = await startEmbeddedBroker({
      authenticator: createCredentialAuthenticator((u) =>
        credentials.find((c) => usernameOf(c.identity) === u),
      ),
      rateLimit: { perSecond: 20, burst: 100 },
      observer: {
        messageDropped: (device) => dropped.push(device),
        rateLimited: (device, episode) => episodes.push({ device, started: episode.started }),
      },
    });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await broker.close();
  });

  test('a retained telemetry or events publish closes the connection and is not stored', async () => {
    const keep = await connect('hab-keep');
    const closed = new Promise<void>((resolve) => keep.once('close', () => resolve()));
    keep.publish(deviceTopic(FLEET, 'hab-keep', 'telemetry'), 'kept forever?', { qos: 1, retain: true });
    await Promise.race([
      closed,
      sleep(5000).then(() => assert.fail('a retained telemetry publish was accepted')),
    ]);
    const again = await connect('hab-keep');
    // Reported stays retained: the protocol reads it on (re)connect.
    await again.publishAsync(deviceTopic(FLEET, 'hab-keep', 'reported'), 'state', { qos: 1, retain: true });
    const ctl = await connect('bpfleet-controller');
    const seen: string[] = [];
    ctl.on('message', (_topic, payload) => seen.push(payload.toString()));
    await ctl.subscribeAsync([fleetDeviceFilter(FLEET, 'telemetry'), fleetDeviceFilter(FLEET, 'reported')], {
      qos: 1,
    });
    await sleep(300);
    assert.deepEqual(seen, ['state']);
  });

  test("the controller's 1 MB desired state passes (its limit is known once it logged in); a device's 1 MB reported does not", async () => {
    const ctl = await connect('bpfleet-controller');
    const keep = await connect('hab-keep');
    await keep.subscribeAsync(deviceTopic(FLEET, 'hab-keep', 'desired'), { qos: 1 });
    const got = new Promise<number>((resolve) =>
      keep.once('message', (_t, payload) => resolve(payload.length)),
    );
    await ctl.publishAsync(deviceTopic(FLEET, 'hab-keep', 'desired'), Buffer.alloc(1024 * 1024, 1), {
      qos: 1,
    });
    assert.equal(await got, 1024 * 1024);
    const closed = new Promise<void>((resolve) => keep.once('close', () => resolve()));
    keep.publish(deviceTopic(FLEET, 'hab-keep', 'reported'), Buffer.alloc(1024 * 1024, 1), { qos: 1 });
    await Promise.race([closed, sleep(5000).then(() => assert.fail('a 1 MB reported was accepted'))]);
  });

  test('a device over its rate has messages dropped and counted, one episode; others are unaffected', async () => {
    const ctl = await connect('bpfleet-controller');
    const received = new Map<string, number>();
    ctl.on('message', (topic) => received.set(topic, (received.get(topic) ?? 0) + 1));
    await ctl.subscribeAsync(fleetDeviceFilter(FLEET, 'telemetry'), { qos: 1 });
    const loud = await connect('hab-loud');
    const quiet = await connect('hab-quiet');
    const loudTopic = deviceTopic(FLEET, 'hab-loud', 'telemetry');
    const started = performance.now();
    // QoS 1: every message is acknowledged, so the device does not resend what was dropped.
    await Promise.all(
      Array.from({ length: 3000 }, (_, i) => loud.publishAsync(loudTopic, `m${i}`, { qos: 1 })),
    );
    const seconds = (performance.now() - started) / 1000;
    await quiet.publishAsync(deviceTopic(FLEET, 'hab-quiet', 'telemetry'), 'hello', { qos: 1 });
    await sleep(300);
    const delivered = received.get(loudTopic) ?? 0;
    console.log(
      `3000 messages in ${seconds.toFixed(2)} s: ${delivered} delivered, ${dropped.length} dropped`,
    );
    assert.ok(delivered <= 100 + Math.ceil(seconds * 20) + 1, `${delivered} delivered`);
    assert.equal(delivered + dropped.length, 3000);
    assert.equal(received.get(deviceTopic(FLEET, 'hab-quiet', 'telemetry')), 1);
    assert.deepEqual(episodes, [{ device: 'hab-loud', started: true }]);
    assert.equal(loud.connected, true);
    // Back under the rate: the episode ends, with its count.
    await sleep(1100);
    await loud.publishAsync(loudTopic, 'calm', { qos: 1 });
    assert.deepEqual(episodes, [
      { device: 'hab-loud', started: true },
      { device: 'hab-loud', started: false },
    ]);
  });
});
