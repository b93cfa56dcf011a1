// Reads which package a bundle signs (name, version, digest) without verifying it: the registry verifies.

import { RegistryError } from '../errors.js';
import { parsePackageStatement } from '../trust/package-statement.js';

export interface SignedSubject {
  namespace: string;
  name: string;
  version: string;
  digest: string;
  manifestDigest: string;
}

export function signedSubject(bundle: unknown, context: string): SignedSubject {
  const payload = (bundle as { dsseEnvelope?: { payload?: unknown } } | null)?.dsseEnvelope?.payload;
  if (typeof payload !== 'string') {
    throw new RegistryError('INVALID_BUNDLE', `${context}: not a DSSE bundle (no dsseEnvelope.payload)`);
  }
  const statement = parsePackageStatement(Buffer.from(payload, 'base64'), context);
  const { name, version, manifestDigest } = statement.predicate;
  const [namespace = '', local = ''] = name.split('/');
  return {
    namespace,
    name: local,
    version,
    digest: `sha256:${statement.subject[0].digest.sha256}`,
    manifestDigest,
  };
}
