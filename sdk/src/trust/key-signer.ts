// The @sigstore/sign `Signer` backed by a key held on disk, and the witness-free DSSE bundle builder around it.
import { sign } from 'node:crypto';
import { bundleToJSON, type SerializedBundle } from '@sigstore/bundle';
import type { Signature, Signer } from '@sigstore/sign';
import { errorMessage, TrustError } from '../errors.js';
import type { SigningKey } from './keys.js';

/** Signs with ECDSA P-256 / SHA-256 (DER signature), naming the key by its id as the bundle's key hint. */
export function createKeySigner(key: SigningKey): Signer {
  return {
    async sign(data: Buffer): Promise<Signature> {
      return {
        signature: sign('sha256', data, key.privateKey),
        key: { $case: 'publicKey', publicKey: key.publicKeyPem, hint: key.keyId },
      };
    },
  };
}

/**
 * Signs `payload` as a DSSE envelope in a Sigstore bundle v0.3. No witnesses: Rekor and a TSA are public
 * services this project never calls, so the bundle carries only the key hint and the signature.
 */
export async function signPayload(
  payloadType: string,
  payload: Buffer,
  key: SigningKey,
): Promise<SerializedBundle> {
  if (payload.length === 0) {
    // A Sigstore bundle cannot carry an empty DSSE payload; verifiers would reject it.
    throw new TrustError('PAYLOAD_EMPTY', `sign ${payloadType} with key ${key.keyId}: empty payload`);
  }
  // Loaded on demand: @sigstore/sign pulls in an HTTP stack that devices, which only verify, never need.
  const { DSSEBundleBuilder } = await import('@sigstore/sign');
  const builder = new DSSEBundleBuilder({ signer: createKeySigner(key), witnesses: [] });
  try {
    return bundleToJSON(await builder.create({ data: payload, type: payloadType }));
  } catch (err) {
    throw new TrustError(
      'SIGNING_FAILED',
      `sign ${payloadType} with key ${key.keyId}: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
}
