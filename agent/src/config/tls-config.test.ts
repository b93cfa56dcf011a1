// The agent's tls section: files read once into the broker's and the registry's TLS options; mistakes name the key.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { generateKeyPair } from '@bpfleet/sdk/trust';
import { stringify } from 'yaml';
import { ConfigKeyError } from './agent-config.js';
import { loadAgentConfig } from './load-config.js';

const dir = await mkdtemp(join(tmpdir(), 'bpfleet-tls-config-'));
after(() => rm(dir, { recursive: true, force: true }));
const k = generateKeyPair();
const key = { keyId: k.keyId, publicKeyPem: k.publicKeyPem };
const base = {
  deviceId: 'tls-cpe',
  fleet: 'home',
  broker: { url: 'mqtts://127.0.0.1:8883', username: 'tls-cpe' },
  registry: { url: 'https://127.0.0.1:8443' },
  trust: { operatorKeys: [key], registryKeys: [key] },
};
const pem = (label: string, body: string) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;

async function load(config: unknown) {
  const path = join(dir, `agent-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(path, stringify(config));
  const loaded = await loadAgentConfig(['--config', path], {});
  assert.equal(loaded.kind, 'run');
  return loaded.kind === 'run' ? loaded.config : assert.fail('not run');
}

test('tls.ca, cert and key are read into the broker and registry options', async () => {
  const files = { ca: join(dir, 'ca.crt'), cert: join(dir, 'device.crt'), key: join(dir, 'device.key') };
  await writeFile(files.ca, pem('CERTIFICATE', 'Q0E='));
  await writeFile(files.cert, pem('CERTIFICATE', 'REVW'));
  await writeFile(files.key, pem('PRIVATE KEY', 'S0VZ'), { mode: 0o600 });
  const config = await load({ ...base, tls: files });
  assert.deepEqual(config.tls, files);
  assert.match(config.broker.ca ?? '', /Q0E=/);
  assert.match(config.broker.cert ?? '', /REVW/);
  assert.match(config.broker.key ?? '', /S0VZ/);
  assert.deepEqual(config.registry.tls, {
    ca: config.broker.ca,
    cert: config.broker.cert,
    key: config.broker.key,
  });
});

test('a missing or non-PEM file, a cert without its key and a relative path are refused by key', async () => {
  const refused = async (tls: unknown, key: string) =>
    assert.rejects(
      load({ ...base, tls }),
      (err: unknown) => err instanceof ConfigKeyError && err.key === key,
    );
  await refused({ ca: join(dir, 'absent.crt') }, 'tls.ca');
  const notPem = join(dir, 'not-pem.crt');
  await writeFile(notPem, 'hello');
  await refused({ ca: notPem }, 'tls.ca');
  await refused({ cert: join(dir, 'device.crt') }, 'tls.key');
  await refused({ ca: 'ca.crt' }, 'tls.ca');
  await refused({ ca: join(dir, 'ca.crt'), verify: false }, 'tls.verify');
});
