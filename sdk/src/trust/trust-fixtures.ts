// Test fixtures for trust: keys made on the spot, a package subject, and byte-level bundle tampering.
import type { SerializedBundle } from '@sigstore/bundle';
import { sha256Digest } from '../digest.js';
import { TrustError } from '../errors.js';
import { generateKeyPair, type KeyPair, type SigningKey, toSigningKey } from './keys.js';
import type { PackageSubject } from './package-signature.js';
import type { TrustedKey, TrustPolicy } from './trust-policy.js';

export interface TestKey {
  pair: KeyPair;
  signing: SigningKey;
  trusted: TrustedKey;
}

export function makeKey(window: { validFrom?: string; validUntil?: string } = {}): TestKey {
  const pair = generateKeyPair();
  return {
    pair,
    signing: toSigningKey(pair.privateKeyPem),
    trusted: { keyId: pair.keyId, publicKeyPem: pair.publicKeyPem, ...window },
  };
}

export const NOW = new Date('2026-03-01T12:00:00Z');

export function makeSubject(overrides: Partial<PackageSubject> = {}): PackageSubject {
  return {
    name: 'acme/xdp-fw',
    version: '1.2.0',
    digest: sha256Digest('the archive bytes'),
    manifestDigest: sha256Digest('{"name":"acme/xdp-fw"}'),
    ...overrides,
  };
}

export function policyOf(publishers: Record<string, TestKey[]>): TrustPolicy {
  return {
    publishers: Object.fromEntries(
      Object.entries(publishers).map(([ns, keys]) => [ns, keys.map((k) => k.trusted)]),
    ),
  };
}

/** A deep copy, so each tampering starts from the pristine bundle. */
export function cloneBundle(bundle: SerializedBundle): SerializedBundle {
  return structuredClone(bundle);
}

/** Envelope accessors on the serialized form (tests only sign DSSE bundles). */
export function envelopeOf(bundle: SerializedBundle): {
  payload: string;
  payloadType: string;
  signatures: Array<{ sig: string; keyid: string }>;
} {
  if (!bundle.dsseEnvelope) throw new Error('fixture: bundle has no dsseEnvelope');
  return bundle.dsseEnvelope;
}

/** Returns a copy of `bundle` with byte `index` of the base64 field `field` XORed with `mask`. */
export function flipByte(
  bundle: SerializedBundle,
  field: 'payload' | 'sig',
  index: number,
  mask = 0x01,
): SerializedBundle {
  const copy = cloneBundle(bundle);
  const envelope = envelopeOf(copy);
  const signature = envelope.signatures[0]!;
  const bytes = Buffer.from(field === 'payload' ? envelope.payload : signature.sig, 'base64');
  bytes[index] = (bytes[index] ?? 0) ^ mask;
  if (field === 'payload') envelope.payload = bytes.toString('base64');
  else signature.sig = bytes.toString('base64');
  return copy;
}

export function byteLength(bundle: SerializedBundle, field: 'payload' | 'sig'): number {
  const envelope = envelopeOf(bundle);
  return Buffer.from(field === 'payload' ? envelope.payload : envelope.signatures[0]!.sig, 'base64').length;
}

/** Runs `action` and returns the TrustError it threw; fails when it succeeds or throws anything else. */
export async function trustErrorOf(action: () => Promise<unknown>): Promise<TrustError> {
  try {
    await action();
  } catch (err) {
    if (err instanceof TrustError) return err;
    throw new Error(`expected a TrustError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a TrustError, but the action succeeded');
}
