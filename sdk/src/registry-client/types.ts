// The JSON shapes of the registry API /v1, as the client sees them.
export interface VersionInfo {
  package: string;
  version: string;
  digest: string;
  size: number;
  manifestDigest: string;
  description: string;
  license: string;
  publishedAt: string;
  yanked: boolean;
  yankReason: string | null;
}

export interface PackageSummary {
  package: string;
  namespace: string;
  name: string;
  description: string;
  latest: string | null;
  versions: number;
  updatedAt: string;
}

export interface PackageInfo extends PackageSummary {
  channels: Record<string, string>;
  versionList: VersionInfo[];
}

export interface PublisherKeyInfo {
  keyId: string;
  publicKeyPem: string;
  addedAt: string;
}

export interface PublishTokenInfo {
  id: string;
  namespace: string;
  label: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface IssuedToken extends PublishTokenInfo {
  /** The secret: shown once, never again. */
  token: string;
}

export interface RegistryKeyInfo {
  keyId: string;
  publicKeyPem: string;
  payloadType: string;
}

/** A publisher statement as the registry lists it: its stream, serial and the signed bundle. */
export interface StoredStatementInfo {
  stream: string;
  serial: number;
  statement: unknown;
}
