// The registry's own signing key: it signs the index; its public half is served for agents to pin.
import { type SigningKey, signDocument } from '@bpfleet/sdk/trust';

export interface RegistryKeys {
  readonly keyId: string;
  readonly publicKeyPem: string;
  /** Signs `document` as JSON under `payloadType`; returns the Sigstore bundle. */
  sign(payloadType: string, document: object): Promise<unknown>;
}

export function createRegistryKeys(key: SigningKey): RegistryKeys {
  return {
    keyId: key.keyId,
    publicKeyPem: key.publicKeyPem,
    sign: (payloadType, document) => signDocument(payloadType, document, key),
  };
}
