// The agent config's root keys: the inline trust as root version 1 (trust.rootKeys, trust.rootThreshold).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateKeyPair } from '@bpfleet/sdk/trust';
import { toAgentConfig } from '../config/agent-config.js';
import { inlineRoot } from './live-trust.js';

const key = () => {
  const k = generateKeyPair();
  return { keyId: k.keyId, publicKeyPem: k.publicKeyPem };
};
const [op, reg, r1, r2] = [key(), key(), key(), key()];
const file = (trust: Record<string, unknown>) => ({
  deviceId: 'rta-1',
  fleet: 'rta',
  broker: { url: 'mqtt://127.0.0.1:1883' },
  registry: { url: 'http://127.0.0.1:8080' },
  trust: { operatorKeys: [op], registryKeys: [reg], ...trust },
});

test('rootKeys and rootThreshold make the inline trust root v1; without them it is fixed', () => {
  const config = toAgentConfig(file({ rootKeys: [r1, r2], rootThreshold: 2 }));
  assert.deepEqual(inlineRoot(config.trust), {
    version: 1,
    roles: { root: { keys: [r1, r2], threshold: 2 } },
  });
  assert.equal(inlineRoot(toAgentConfig(file({})).trust), undefined);
  assert.equal(toAgentConfig(file({ rootKeys: [r1] })).trust.rootThreshold, 1);
});

test('a threshold above the keys, a threshold without keys and an empty key list are refused by name', () => {
  assert.throws(() => toAgentConfig(file({ rootKeys: [r1], rootThreshold: 2 })), /trust\.rootThreshold/);
  assert.throws(
    () => toAgentConfig(file({ rootThreshold: 1 })),
    /trust\.rootThreshold: needs trust\.rootKeys/,
  );
  assert.throws(() => toAgentConfig(file({ rootKeys: [] })), /trust\.rootKeys: needs at least one key/);
});
