import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { generateKeyPair } from '@bpfleet/sdk/trust';
import { ConfigKeyError } from './agent-config.js';
import { loadAgentConfig } from './load-config.js';

const dir = await mkdtemp(join(tmpdir(), 'bpfleet-agent-config-'));
after(() => rm(dir, { recursive: true, force: true }));
const k = generateKeyPair();
const key = { keyId: k.keyId, publicKeyPem: k.publicKeyPem };
const file = {
  deviceId: 'cpe-1',
  fleet: 'home',
  broker: { url: 'mqtt://127.0.0.1:1883' },
  registry: { url: 'http://127.0.0.1:8080' },
  trust: { operatorKeys: [key], registryKeys: [key] },
};

async function write(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

test('flags win over the environment, which wins over the file', async () => {
  const path = await write('ok.json', JSON.stringify(file));
  const loaded = await loadAgentConfig(['--config', path, '--device-id', 'from-flag'], {
    BPFLEET_DEVICE_ID: 'from-env',
    BPFLEET_FLEET: 'env-fleet',
  });
  assert.equal(loaded.kind, 'run');
  if (loaded.kind !== 'run') return;
  assert.equal(loaded.config.deviceId, 'from-flag');
  assert.equal(loaded.config.fleet, 'env-fleet');
});

test('a YAML config file reads like the JSON one; --help and --version need no config', async () => {
  const yaml = [
    'deviceId: cpe-2',
    'fleet: home',
    'groups: [lab, eu]',
    'broker: { url: "mqtt://127.0.0.1:1883" }',
    'registry:',
    '  url: http://127.0.0.1:8080',
    'trust:',
    '  operatorKeys: &keys',
    `    - keyId: "${key.keyId}"`,
    '      publicKeyPem: |',
    ...key.publicKeyPem
      .trim()
      .split('\n')
      .map((l) => `        ${l}`),
    '  registryKeys: *keys',
    '',
  ].join('\n');
  const loaded = await loadAgentConfig(['--config', await write('ok.yaml', yaml)], {});
  assert.equal(loaded.kind, 'run');
  if (loaded.kind !== 'run') return;
  assert.equal(loaded.config.deviceId, 'cpe-2');
  assert.deepEqual(loaded.config.groups, ['lab', 'eu']);
  assert.equal(loaded.config.trust.registryKeys[0]?.keyId, key.keyId);
  assert.deepEqual(await loadAgentConfig(['--help'], {}), { kind: 'help' });
  assert.deepEqual(await loadAgentConfig(['--version'], {}), { kind: 'version' });
  await assert.rejects(
    loadAgentConfig(['--config', await write('bad.yaml', 'deviceId: [')], {}),
    (err: unknown) => err instanceof ConfigKeyError && err.key === '--config' && /not YAML/.test(err.message),
  );
  await assert.rejects(
    loadAgentConfig(['--config', await write('wrong.yml', yaml.replace('cpe-2', '"bad id!"'))], {}),
    (err: unknown) => err instanceof ConfigKeyError && err.key === 'deviceId',
  );
});

test('a missing, unreadable or invalid config names what is wrong', async () => {
  const cases: Array<[string[], NodeJS.ProcessEnv, string]> = [
    [[], {}, '--config'],
    [['--config', join(dir, 'absent.json')], {}, '--config'],
    [['--config', await write('bad.json', '{')], {}, '--config'],
    [['--bogus'], {}, '(flags)'],
    [['--config', await write('nokey.json', JSON.stringify({ ...file, broker: {} }))], {}, 'broker.url'],
    [['--config', await write('ok2.json', JSON.stringify(file)), '--metrics-port', 'x'], {}, 'metrics.port'],
  ];
  for (const [argv, env, keyName] of cases) {
    await assert.rejects(loadAgentConfig(argv, env), (err: unknown) => {
      assert.ok(err instanceof ConfigKeyError, String(err));
      assert.equal(err.key, keyName, err.message);
      return true;
    });
  }
});
