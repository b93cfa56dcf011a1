// trust: publisher/registry/operator keys, signing as Sigstore DSSE bundles, verification against configured keys.

export type { SerializedBundle } from '@sigstore/bundle';
export type { KeyResolver, VerifiedPayload } from './bundle-verifier.js';
export { verifyBundlePayload } from './bundle-verifier.js';
export type {
  ChannelAction,
  ChannelStatement,
  VerifiedChannelStatement,
} from './channel-statement.js';
export {
  CHANNEL_STATEMENT_SCHEMA,
  parseChannelStatement,
  signChannelStatement,
  statementStream,
  verifyChannelStatement,
} from './channel-statement.js';
export type { VerifiedDocument } from './document-signature.js';
export { signDocument, verifyDocument } from './document-signature.js';
export type { KeyPairFiles, PublicKeyFile } from './key-files.js';
export { readPrivateKey, readPublicKey, writeKeyPair } from './key-files.js';
export { createKeySigner, signPayload } from './key-signer.js';
export type { KeyPair, SigningKey } from './keys.js';
export { generateKeyPair, KEY_ID_PATTERN, keyIdOf, toPublicKey, toSigningKey } from './keys.js';
export type { ThresholdResult } from './multi-signature.js';
export { cosignDocument, verifyThreshold } from './multi-signature.js';
export type { ExpectedPackage, PackageSubject, VerifiedPackage } from './package-signature.js';
export { signPackage, toPackageStatement, verifyPackage } from './package-signature.js';
export type { PackageStatement } from './package-statement.js';
export { parsePackageStatement } from './package-statement.js';
export {
  CHANNEL_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_TYPE,
  INDEX_PAYLOAD_TYPE,
  PACKAGE_PAYLOAD_TYPE,
  PACKAGE_PREDICATE_TYPE,
  POLICY_PAYLOAD_TYPE,
  ROOT_PAYLOAD_TYPE,
} from './payload-types.js';
export type { TrustedRoot } from './root-chain.js';
export { cosignRoot, peekRoot, signRoot, verifyFirstRoot, verifyNextRoot } from './root-chain.js';
export type { KeyRole, RootDocument, RootRoles, ThresholdRole } from './root-document.js';
export { parseRootDocument, publisherKeysOf, ROOT_SCHEMA } from './root-document.js';
export type { TrustedKey, TrustPolicy } from './trust-policy.js';
export {
  assertKeyInWindow,
  keysForNamespace,
  parseTrustedKey,
  parseTrustPolicy,
} from './trust-policy.js';
