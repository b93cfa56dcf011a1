// Registration with a public key over the fleet API of a TLS fleet runtime: a certificate from the device CA, no
// password, only the key's hash stored; the certificate logs the device in over mqtts; a bad key registers nothing.
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeKeyPair } from '@bpfleet/sdk/trust';
import mqtt from 'mqtt';
import { createApp, type RegistryApp } from '../app.js';
import { type FleetRuntime, startFleetRuntime } from '../fleet/fleet-runtime.js';
import { silentLogger } from '../logger.js';
import { createRegistryFixture, type RegistryFixture } from '../testing/registry-fixture.js';
import { createTestKeys } from '../testing/test-keys.js';
import { createServerPki, type ServerPki } from '../tls/testing/server-pki.js';

let dir: string;
let fx: RegistryFixture;
let runtime: FleetRuntime;
let app: RegistryApp;
let pki: ServerPki;

const register = (body: unknown) =>
  Promise.resolve(
    app.app.request('/v1/fleet/devices', {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'application/json' },
    }),
  );

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpfleet-tls-register-'));
  fx = await createRegistryFixture({ keys: createTestKeys() });
  pki = await createServerPki(['127.0.0.1']);
  const files = await writeKeyPair(dir, 'operator');
  runtime = await startFleetRuntime({
    fleet: 'tls',
    dataDir: dir,
    catalog: fx.catalog,
    logger: silentLogger,
    brokerHost: '127.0.0.1',
    brokerPort: 0,
    operatorKeyFiles: [files.publicKeyPath],
    tls: { cert: pki.certPem, key: pki.keyPem },
  });
  app = createApp({ ...fx.deps, fleet: runtime.deps });
});

after(async () => {
  await runtime?.stop();
  await fx?.close();
  await rm(dir, { recursive: true, force: true });
});

test('a public key in, a certificate from the device CA out; the certificate logs the device in over mqtts', async () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const res = await register({ id: 'tls-cpe', publicKey: publicKey.export({ type: 'spki', format: 'pem' }) });
  assert.equal(res.status, 201);
  const body = (await res.json()) as {
    broker: { url: string; password?: string; tls: { certificate: string; ca: string; notAfter: string } };
  };
  assert.equal(body.broker.password, undefined);
  assert.match(body.broker.url, /^mqtts:/);
  const cert = new X509Certificate(body.broker.tls.certificate);
  assert.match(cert.subject, /CN=tls-cpe/);
  assert.ok(cert.verify(new X509Certificate(body.broker.tls.ca).publicKey), 'signed by the device CA');
  assert.ok(cert.publicKey.equals(publicKey), 'for the key that was sent');
  assert.match(runtime.deps.store.getDevice('tls-cpe')?.secretHash ?? '', /^spki:sha256:[0-9a-f]{64}$/);

  const client = await mqtt.connectAsync(body.broker.url, {
    clientId: 'tls-cpe',
    reconnectPeriod: 0,
    protocolVersion: 4,
    ca: pki.caPem,
    cert: body.broker.tls.certificate,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
  });
  await client.endAsync();
});

test('a publicKey that is not a PEM public key is a 400 and registers nothing', async () => {
  const res = await register({
    id: 'tls-bad',
    publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
  });
  assert.equal(res.status, 400);
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'INVALID_PARAMETER');
  assert.match(body.error.message, /^register tls-bad: publicKey: /);
  assert.equal(runtime.deps.store.getDevice('tls-bad'), undefined);
});

test('without publicKey the device gets a password, as before', async () => {
  const res = await register({ id: 'tls-pw' });
  assert.equal(res.status, 201);
  const body = (await res.json()) as { broker: { password: string; tls?: unknown } };
  assert.ok(body.broker.password.length >= 32);
  assert.equal(body.broker.tls, undefined);
});
