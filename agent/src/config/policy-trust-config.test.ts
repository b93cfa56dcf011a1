// trust.operatorThreshold (k of n) and trust.edgeKeys in the agent's config: defaults and refusals by key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateKeyPair } from '@bpfleet/sdk/trust';
import { ConfigKeyError, toAgentConfig } from './agent-config.js';

const key = () => {
  const k = generateKeyPair();
  return { keyId: k.keyId, publicKeyPem: k.publicKeyPem };
};
const [op1, op2, edge] = [key(), key(), key()];
const file = (trust: Record<string, unknown>) => ({
  deviceId: 'cpe-1',
  fleet: 'home',
  broker: { url: 'mqtt://127.0.0.1:1883' },
  registry: { url: 'http://127.0.0.1:8080' },
  trust: { operatorKeys: [op1, op2], registryKeys: [op1], ...trust },
});

test('one operator signature and no edge key unless configured', () => {
  const c = toAgentConfig(file({}));
  assert.equal(c.trust.operatorThreshold, 1);
  assert.deepEqual(c.trust.edgeKeys, []);
  const k = toAgentConfig(file({ operatorThreshold: 2, edgeKeys: [edge] }));
  assert.equal(k.trust.operatorThreshold, 2);
  assert.equal(k.trust.edgeKeys?.[0]?.keyId, edge.keyId);
});

test('a threshold above the operator keys, or an edge key that is also an operator key, is refused', () => {
  const refused = (trust: Record<string, unknown>, name: string) =>
    assert.throws(
      () => toAgentConfig(file(trust)),
      (err: unknown) => err instanceof ConfigKeyError && err.key === name,
    );
  refused({ operatorThreshold: 3 }, 'trust.operatorThreshold');
  refused({ operatorThreshold: 0 }, 'trust.operatorThreshold');
  refused({ operatorThreshold: '2' }, 'trust.operatorThreshold');
  refused({ edgeKeys: [op2] }, 'trust.edgeKeys');
});
