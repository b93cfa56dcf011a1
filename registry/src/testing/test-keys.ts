// Registry keys made by the test (sdk trust signs the index once it is merged).
import { RegistryError } from '@bpfleet/sdk/errors';
import type { RegistryKeys } from '../keys.js';

export function createTestKeys(): RegistryKeys {
  return {
    keyId: 'sha256:0000000000000000000000000000000000000000000000000000000000000000',
    publicKeyPem: '',
    async sign() {
      throw new RegistryError('NOT_READY', 'sign index: registry keys not wired yet');
    },
  };
}
