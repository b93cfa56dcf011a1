// The embedded broker over TLS: a device certificate from the edge's CA is the device's identity (CN = client id,
// key held by the edge); another device's id, a deleted device, a foreign CA are refused; passwords still work.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import { type DeviceCa, loadOrCreateDeviceCa } from '../tls/device-ca.js';
import { createServerPki, type ServerPki } from '../tls/testing/server-pki.js';
import type { BrokerIdentity } from './access-policy.js';
import { createCredentialAuthenticator, issueSecret, type StoredCredential } from './credentials.js';
import { type EmbeddedBroker, startEmbeddedBroker } from './embedded-broker.js';

const FLEET = 'tls';
const device = (id: string): BrokerIdentity => ({ role: 'device', fleet: FLEET, deviceId: id, groups: [] });

function deviceKey() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

describe('embedded broker over TLS with device certificates', () => {
  let work: string;
  let ca: DeviceCa;
  let foreignCa: DeviceCa;
  let server: ServerPki;
  let broker: EmbeddedBroker;
  const stored = new Map<string, StoredCredential>();
  const password = issueSecret();
  const certs: Record<string, { certPem: string; keyPem: string }> = {};

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'bpfleet-tls-broker-'));
    ca = await loadOrCreateDeviceCa(join(work, 'edge'));
    foreignCa = await loadOrCreateDeviceCa(join(work, 'other'));
    server = await createServerPki(['127.0.0.1']);
    for (const id of ['tls-a', 'tls-b']) {
      const key = deviceKey();
      const issued = await ca.issue(id, key.publicKeyPem);
      stored.set(id, { identity: device(id), secretHash: issued.credentialHash });
      certs[id] = { certPem: issued.certPem, keyPem: key.keyPem };
    }
    const key = deviceKey();
    certs.foreign = {
      certPem: (await foreignCa.issue('tls-a', key.publicKeyPem)).certPem,
      keyPem: key.keyPem,
    };
    stored.set('tls-pw', { identity: device('tls-pw'), secretHash: password.secretHash });
    broker = await startEmbeddedBroker({
      authenticator: createCredentialAuthenticator((u) => stored.get(u)),
      tls: { cert: server.certPem, key: server.keyPem, ca: ca.certPem },
    });
  });

  after(async () => {
    await broker?.close();
    await rm(work, { recursive: true, force: true });
  });

  const connect = (
    clientId: string,
    o: { cert?: string; key?: string; username?: string; password?: string },
  ) =>
    mqtt.connectAsync(broker.url, {
      clientId,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ca: server.caPem,
      ...o,
    });

  const refusal = async (promise: Promise<mqtt.MqttClient>): Promise<number> => {
    const err = await promise.then(
      async (c) => {
        await c.endAsync(true);
        assert.fail('connected');
      },
      (e: { code?: number }) => e,
    );
    return (err as { code: number }).code;
  };

  test('the URL is mqtts and a client certificate alone logs the device in', async () => {
    assert.match(broker.url, /^mqtts:\/\//);
    const client = await connect('tls-a', { cert: certs['tls-a']!.certPem, key: certs['tls-a']!.keyPem });
    await client.subscribeAsync(`bpfleet/v1/${FLEET}/dev/tls-a/desired`, { qos: 1 });
    await client.endAsync();
  });

  test("A's certificate under B's client id or username is refused", async () => {
    const a = { cert: certs['tls-a']!.certPem, key: certs['tls-a']!.keyPem };
    assert.equal(await refusal(connect('tls-b', a)), 2);
    assert.equal(await refusal(connect('tls-a', { ...a, username: 'tls-b', password: 'x' })), 4);
  });

  test('a certificate of another CA is no identity (and has no password)', async () => {
    assert.equal(
      await refusal(connect('tls-a', { cert: certs.foreign!.certPem, key: certs.foreign!.keyPem })),
      4,
    );
  });

  test('a deleted device, or one registered again with another key, is refused with its old certificate', async () => {
    const b = { cert: certs['tls-b']!.certPem, key: certs['tls-b']!.keyPem };
    stored.set('tls-b', {
      identity: device('tls-b'),
      secretHash: (await ca.issue('tls-b', deviceKey().publicKeyPem)).credentialHash,
    });
    assert.equal(await refusal(connect('tls-b', b)), 4);
    stored.delete('tls-b');
    assert.equal(await refusal(connect('tls-b', b)), 4);
  });

  test('a password login still works over TLS, and a certificate device has no password', async () => {
    const client = await connect('tls-pw', { username: 'tls-pw', password: password.secret });
    await client.endAsync();
    assert.equal(
      await refusal(connect('tls-a', { username: 'tls-a', password: stored.get('tls-a')!.secretHash })),
      4,
    );
  });

  test('a client that does not trust the server certificate refuses it', async () => {
    const other = await createServerPki(['127.0.0.1'], 'another CA');
    const err = await mqtt
      .connectAsync(broker.url, {
        clientId: 'tls-pw',
        reconnectPeriod: 0,
        ca: other.caPem,
        username: 'tls-pw',
        password: password.secret,
      })
      .then(
        () => assert.fail('connected'),
        (e: Error) => e,
      );
    assert.match(
      String((err as NodeJS.ErrnoException).code ?? err.message),
      /SELF_SIGNED|UNABLE_TO_VERIFY|CERT/,
    );
  });
});
