// What fleet register writes for a device: its key 0600 and never overwritten, the paths the device will see, and
// an agent config in the agent's own schema (the agent loading it is shown end to end in e2e/src/tls.test.ts).
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'yaml';
import { agentConfigFor, createDeviceKey, renderAgentConfig, writeDeviceFiles } from './device-setup.js';

const dir = await mkdtemp(join(tmpdir(), 'bpfleet-tls-setup-'));
after(() => rm(dir, { recursive: true, force: true }));

test('the device key is a P-256 pair; its file is 0600, the paths are the device side ones, nothing is overwritten', async () => {
  const key = createDeviceKey();
  const spki = createPublicKey(createPrivateKey(key.privateKeyPem)).export({ type: 'spki', format: 'pem' });
  assert.equal(spki, key.publicKeyPem);
  const ca = join(dir, 'edge-ca.crt');
  await writeFile(ca, '-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n');
  const out = join(dir, 'cpe');
  const files = await writeDeviceFiles(out, '/etc/bpfleet', {
    key: key.privateKeyPem,
    cert: 'CERT',
    serverCaFile: ca,
  });
  assert.deepEqual(files.tls, {
    ca: '/etc/bpfleet/server-ca.crt',
    cert: '/etc/bpfleet/device.crt',
    key: '/etc/bpfleet/device.key',
  });
  assert.equal((await stat(join(out, 'device.key'))).mode & 0o777, 0o600);
  assert.equal(await readFile(join(out, 'device.key'), 'utf8'), key.privateKeyPem);
  await assert.rejects(
    writeDeviceFiles(out, undefined, { key: createDeviceKey().privateKeyPem, cert: 'OTHER' }),
    (err: Error & { code?: string }) => err.code === 'FILE_EXISTS' && /device\.key: exists/.test(err.message),
  );
  assert.equal(await readFile(join(out, 'device.key'), 'utf8'), key.privateKeyPem, 'the first key is kept');
});

test('the agent config: a password only when given, tls only when there are files', () => {
  const trustKey = { keyId: 'sha256:00', publicKeyPem: 'PEM' };
  const base = {
    deviceId: 'cpe',
    fleet: 'home',
    groups: ['g'],
    registryUrl: 'https://edge:8080',
    trust: { operatorKeys: [trustKey], registryKeys: [trustKey], publishers: { acme: [trustKey] } },
    dataDir: '/var/lib/bpfleet-agent',
    allowInterfaces: ['wan0'],
  };
  const cert = agentConfigFor({
    ...base,
    broker: { url: 'mqtts://edge:8883', username: 'cpe' },
    tls: { ca: '/etc/ca.crt', cert: '/etc/d.crt', key: '/etc/d.key' },
  });
  assert.deepEqual(cert.broker, { url: 'mqtts://edge:8883', username: 'cpe' });
  assert.deepEqual(cert.tls, { ca: '/etc/ca.crt', cert: '/etc/d.crt', key: '/etc/d.key' });
  const password = agentConfigFor({
    ...base,
    broker: { url: 'mqtt://edge:1883', username: 'cpe', password: 's' },
  });
  assert.equal((password.broker as { password: string }).password, 's');
  assert.equal(password.tls, undefined);
  const text = renderAgentConfig(cert, 'cpe');
  assert.match(text, /^# bpfleet-agent config for cpe/);
  assert.deepEqual(parse(text), cert);
});
