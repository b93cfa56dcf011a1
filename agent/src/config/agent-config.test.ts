import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateKeyPair } from '@bpfleet/sdk/trust';
import { ConfigKeyError, overridesFromEnv, toAgentConfig } from './agent-config.js';

const k = generateKeyPair();
const key = { keyId: k.keyId, publicKeyPem: k.publicKeyPem };
const file = {
  deviceId: 'cpe-1',
  fleet: 'home',
  groups: ['gw'],
  broker: { url: 'mqtt://127.0.0.1:1883' },
  registry: { url: 'http://127.0.0.1:8080/' },
  trust: { operatorKeys: [key], registryKeys: [key], publishers: { acme: [key] } },
  allow: { interfaces: ['wan0'] },
};

test('fills defaults and applies env and flag overrides', () => {
  const c = toAgentConfig(file, {
    ...overridesFromEnv({ BPFLEET_BROKER_URL: 'mqtts://broker:8883', BPFLEET_GROUPS: 'a,b' }),
    'metrics.port': '9999',
  });
  assert.equal(c.broker.url, 'mqtts://broker:8883');
  assert.deepEqual(c.groups, ['a', 'b']);
  assert.equal(c.metrics.port, 9999);
  assert.equal(c.registry.url, 'http://127.0.0.1:8080');
  assert.equal(c.pinRoot, '/sys/fs/bpf/bpfleet');
  assert.equal(c.trust.publishers.acme?.[0]?.keyId, k.keyId);
});

test('every bad value names its key', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ deviceId: 'a/b' }, 'deviceId'],
    [{ deviceId: undefined }, 'deviceId'],
    [{ broker: { url: 'http://x' } }, 'broker.url'],
    [{ broker: { url: 'mqtt://x', keepaliveSeconds: 1 } }, 'broker.keepaliveSeconds'],
    [{ registry: { url: 'nope' } }, 'registry.url'],
    [{ trust: { ...file.trust, operatorKeys: [] } }, 'trust.operatorKeys'],
    [{ trust: { ...file.trust, registryKeys: [{ ...key, keyId: 'sha256:00' }] } }, 'trust.registryKeys[0]'],
    [{ dataDir: 'relative' }, 'dataDir'],
    [{ metrics: { port: 70000 } }, 'metrics.port'],
    [{ surprise: true }, 'surprise'],
    [{ allow: { interfaces: 'wan0' } }, 'allow.interfaces'],
  ];
  for (const [patch, keyName] of cases) {
    assert.throws(
      () => toAgentConfig({ ...file, ...patch }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigKeyError, String(err));
        assert.equal(err.key, keyName, err.message);
        assert.ok(err.message.startsWith(`config ${keyName}: `), err.message);
        return true;
      },
    );
  }
});
