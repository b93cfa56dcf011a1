// The registry's own signing key: it signs the index; its public half is served for agents to pin.
export interface RegistryKeys {
  readonly keyId: string;
  readonly publicKeyPem: string;
  /** Signs `document` (as canonical JSON bytes) under `payloadType`; returns the Sigstore bundle. */
  sign(payloadType: string, document: unknown): Promise<unknown>;
}
