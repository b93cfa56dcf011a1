// Broker credentials the edge issues: a random secret given once, only its hash kept.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { BrokerIdentity } from './access-policy.js';

export interface IssuedSecret {
  secret: string;
  secretHash: string;
}

/** Secrets are 256 random bits, so a plain SHA-256 is a sufficient at-rest hash. */
export function issueSecret(): IssuedSecret {
  const secret = randomBytes(32).toString('base64url');
  return { secret, secretHash: hashSecret(secret) };
}

export function hashSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('hex')}`;
}

export function secretMatches(secret: string, secretHash: string): boolean {
  const actual = Buffer.from(hashSecret(secret));
  const expected = Buffer.from(secretHash);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Resolves a username and password to who is connecting; null when they do not match. */
export interface BrokerAuthenticator {
  authenticate(username: string, password: string): Promise<BrokerIdentity | null>;
  /** A device CA certificate's CN and key hash (`spki:sha256:…`) to who is connecting; null when not held. */
  authenticateCertificate?(deviceId: string, credentialHash: string): Promise<BrokerIdentity | null>;
}

export interface StoredCredential {
  identity: BrokerIdentity;
  secretHash: string;
}

/** An authenticator over credentials held in memory (the edge loads them from its catalog). */
export function createCredentialAuthenticator(
  lookup: (username: string) => StoredCredential | undefined | Promise<StoredCredential | undefined>,
): BrokerAuthenticator {
  return {
    async authenticate(username, password) {
      const stored = await lookup(username);
      if (!stored || !secretMatches(password, stored.secretHash)) return null;
      return stored.identity;
    },
    async authenticateCertificate(deviceId, credentialHash) {
      const stored = await lookup(deviceId);
      // Only a device registered with this key: a deleted or re-registered device's old certificate is refused.
      if (stored?.identity.role !== 'device' || !credentialHash.startsWith('spki:')) return null;
      const a = Buffer.from(credentialHash);
      const b = Buffer.from(stored.secretHash);
      return a.length === b.length && timingSafeEqual(a, b) ? stored.identity : null;
    },
  };
}

export function usernameOf(identity: BrokerIdentity): string {
  return identity.role === 'device' ? identity.deviceId : identity.name;
}
