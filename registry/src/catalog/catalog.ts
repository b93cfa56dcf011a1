// Catalog: the registry's metadata (namespaces, publisher keys, tokens, versions, channels, index serial).
export interface Namespace {
  name: string;
  createdAt: string;
}

export interface PublisherKey {
  namespace: string;
  keyId: string;
  publicKeyPem: string;
  addedAt: string;
}

export interface TokenRecord {
  id: string;
  namespace: string;
  label: string;
  /** sha256 of the secret; the secret itself is never stored. */
  hash: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface VersionRecord {
  namespace: string;
  name: string;
  version: string;
  digest: string;
  size: number;
  manifestDigest: string;
  /** The manifest bytes exactly as found in the archive. */
  manifest: string;
  /** The Sigstore bundle JSON as uploaded. */
  bundle: string;
  description: string;
  license: string;
  publishedAt: string;
  yanked: boolean;
  yankReason: string | null;
}

export interface PackageSummary {
  namespace: string;
  name: string;
  description: string;
  /** Highest non-yanked version (semver order), or null when every version is yanked. */
  latest: string | null;
  versions: number;
  updatedAt: string;
}

export interface Channel {
  channel: string;
  version: string;
  updatedAt: string;
}

export interface PackageQuery {
  namespace?: string;
  /** Matches name or description, case-insensitively. */
  text?: string;
  limit: number;
  offset: number;
}

/** The content of a signed index: every package with its versions and channels. */
export interface IndexPackage {
  namespace: string;
  name: string;
  versions: Array<Pick<VersionRecord, 'version' | 'digest' | 'size' | 'manifestDigest' | 'yanked'>>;
  channels: Record<string, string>;
  /** The latest publisher statement bundle (serialized) per stream, for the device to check itself. */
  statements: string[];
}

/** A publisher statement as stored: its stream, serial and the serialized bundle. */
export interface StoredStatement {
  stream: string;
  serial: number;
  body: string;
}

/** What a verified statement changes: a channel's version, or a version's yank mark. */
export type StatementEffect =
  | { kind: 'channel'; channel: string; version: string }
  | { kind: 'yank'; version: string; reason: string | null };

/** A signed index as kept in the catalog, so every registry process serves the same (highest) one. */
export interface StoredIndex {
  serial: number;
  /** The catalog change counter the index was built from. */
  changes: number;
  issuedAt: string;
  expires: string;
  /** The serialized Sigstore bundle. */
  body: string;
}

/**
 * Metadata storage. Errors are RegistryError with codes NAMESPACE_EXISTS, NAMESPACE_NOT_FOUND,
 * KEY_EXISTS, VERSION_EXISTS, VERSION_NOT_FOUND.
 */
export interface Catalog {
  createNamespace(name: string, at: Date): Promise<Namespace>;
  getNamespace(name: string): Promise<Namespace | undefined>;
  listNamespaces(): Promise<Namespace[]>;

  addPublisherKey(key: PublisherKey): Promise<void>;
  listPublisherKeys(namespace: string): Promise<PublisherKey[]>;
  removePublisherKey(namespace: string, keyId: string): Promise<boolean>;

  createToken(token: TokenRecord): Promise<void>;
  findTokenByHash(hash: string): Promise<TokenRecord | undefined>;
  listTokens(namespace: string): Promise<TokenRecord[]>;
  revokeToken(id: string, at: Date): Promise<boolean>;

  /** Inserts a version; exactly one of concurrent inserts of the same version wins, the rest get VERSION_EXISTS. */
  insertVersion(record: VersionRecord): Promise<void>;
  getVersion(namespace: string, name: string, version: string): Promise<VersionRecord | undefined>;
  listVersions(namespace: string, name: string): Promise<VersionRecord[]>;
  setYanked(
    namespace: string,
    name: string,
    version: string,
    reason: string | null,
    at: Date,
  ): Promise<boolean>;
  getPackage(namespace: string, name: string): Promise<PackageSummary | undefined>;
  listPackages(query: PackageQuery): Promise<PackageSummary[]>;
  /** True when some published version has this digest (downloads serve only those). */
  hasDigest(digest: string): Promise<boolean>;
  referencedDigests(): Promise<Set<string>>;

  setChannel(namespace: string, name: string, channel: string, version: string, at: Date): Promise<void>;
  listChannels(namespace: string, name: string): Promise<Channel[]>;
  /**
   * Stores a statement and applies its effect in one transaction, only when its serial is above the stream's
   * stored one; returns false (nothing changed) otherwise.
   */
  applyStatement(
    namespace: string,
    name: string,
    statement: StoredStatement,
    effect: StatementEffect,
    at: Date,
  ): Promise<boolean>;
  listStatements(namespace: string, name: string): Promise<StoredStatement[]>;

  indexPackages(namespace?: string): Promise<IndexPackage[]>;
  /** A counter that only grows, persisted: each signed index takes the next value. */
  nextIndexSerial(): Promise<number>;
  /** Bumped on every change that shows in the index, so signed indexes know when they are stale. */
  changeCounter(): Promise<number>;

  getSignedIndex(scope: string): Promise<StoredIndex | undefined>;
  /** Stores the index unless one with a higher or equal serial is stored already; returns the stored one. */
  putSignedIndex(scope: string, index: StoredIndex): Promise<StoredIndex>;

  getSetting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;

  close(): Promise<void>;
}
