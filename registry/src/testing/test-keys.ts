// Registry keys made by the test, and a publisher key pair for signing test packages.
import { generateKeyPair, type KeyPair, type SigningKey, toSigningKey } from '@bpfleet/sdk/trust';
import { createRegistryKeys, type RegistryKeys } from '../keys.js';

export function createTestKeys(): RegistryKeys {
  return createRegistryKeys(toSigningKey(generateKeyPair().privateKeyPem));
}

export interface TestPublisher {
  pair: KeyPair;
  signing: SigningKey;
}

export function createTestPublisher(): TestPublisher {
  const pair = generateKeyPair();
  return { pair, signing: toSigningKey(pair.privateKeyPem) };
}
