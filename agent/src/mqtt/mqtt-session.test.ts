import { after, describe, test } from 'node:test';
import { until } from '@bpfleet/sdk/test-kit';
import mqtt from 'mqtt';
import { silentLogger } from '../logger.js';
import { startAedes, startMosquitto, type TestBroker } from '../testing/brokers.js';
import { MqttSession } from './mqtt-session.js';
import { deviceTopics } from './topics.js';

for (const [name, startBroker] of [
  ['aedes', startAedes],
  ['mosquitto', startMosquitto],
] as const) {
  describe(`MQTT session against ${name}`, () => {
    let broker: TestBroker;
    const observers: mqtt.MqttClient[] = [];
    after(async () => {
      for (const o of observers) await o.endAsync(true);
      await broker?.close();
    });

    test('subscribes, gets retained desired state, says online, reconnects after the broker returns', async () => {
      broker = await startBroker();
      const topics = deviceTopics('f1', 'dev-1');
      const edge = await mqtt.connectAsync(broker.url, { clientId: 'edge', protocolVersion: 4 });
      observers.push(edge);
      await edge.publishAsync(topics.device, 'policy-1', { qos: 1, retain: true });
      const messages: string[] = [];
      let connects = 0;
      const session = new MqttSession({
        url: broker.url,
        clientId: 'dev-1',
        keepaliveSeconds: 5,
        presenceTopic: topics.presence,
        subscriptions: [topics.device, topics.group('g1')],
        backoff: { initialMs: 20, maxMs: 200 },
        logger: silentLogger,
        onMessage: (_topic, payload) => messages.push(payload.toString()),
        onConnect: () => connects++,
      });
      session.start();
      await until(() => messages.includes('policy-1'), 'the retained policy', 10_000);
      const presence: string[] = [];
      edge.on('message', (t, p) => {
        if (t === topics.presence) presence.push(p.toString());
      });
      await edge.subscribeAsync(topics.presence, { qos: 1 });
      await until(() => presence.includes('online'), 'presence online', 10_000);

      await broker.stop();
      await until(() => !session.connected, 'the disconnect', 10_000);
      // Published while the broker is away: kept and delivered after the reconnect.
      session.publish(topics.reported, 'state-while-offline', true);
      await broker.start();
      await until(() => session.connected && connects >= 2, 'the reconnect', 10_000);

      const late = await mqtt.connectAsync(broker.url, { clientId: 'late', protocolVersion: 4 });
      observers.push(late);
      const reported: string[] = [];
      late.on('message', (t, p) => {
        if (t === topics.reported) reported.push(p.toString());
      });
      await late.subscribeAsync(topics.reported, { qos: 1 });
      await until(() => reported.includes('state-while-offline'), 'the queued report', 10_000);

      // A new group policy arrives on the restored session.
      await late.publishAsync(topics.group('g1'), 'group-policy', { qos: 1, retain: true });
      await until(() => messages.includes('group-policy'), 'the group policy', 10_000);

      const presence2: string[] = [];
      late.on('message', (t, p) => {
        if (t === topics.presence) presence2.push(p.toString());
      });
      await late.subscribeAsync(topics.presence, { qos: 1 });
      await session.stop();
      await until(() => presence2.at(-1) === 'offline', 'presence offline on stop', 10_000);
    });

    test('the last will says offline when the device vanishes', async () => {
      const topics = deviceTopics('f1', 'dev-2');
      const session = new MqttSession({
        url: broker.url,
        clientId: 'dev-2',
        keepaliveSeconds: 5,
        presenceTopic: topics.presence,
        subscriptions: [topics.device],
        backoff: { initialMs: 20, maxMs: 200 },
        logger: silentLogger,
        onMessage: () => {},
        onConnect: () => {},
      });
      session.start();
      await until(() => session.connected, 'connect', 10_000);
      const watcher = await mqtt.connectAsync(broker.url, { clientId: 'watcher', protocolVersion: 4 });
      observers.push(watcher);
      const seen: string[] = [];
      watcher.on('message', (_t, p) => seen.push(p.toString()));
      await watcher.subscribeAsync(topics.presence, { qos: 1 });
      await until(() => seen.includes('online'), 'online', 10_000);
      session.abort();
      await until(() => seen.at(-1) === 'offline', 'the last will', 10_000);
    });
  });
}
