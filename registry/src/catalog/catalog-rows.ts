// Rows of the catalog tables as both stores read them, and their records: one mapping for SQLite and PostgreSQL.
import semver from 'semver';
import type { PackageSummary, TokenRecord, VersionRecord } from './catalog.js';

export interface VersionRow {
  namespace: string;
  name: string;
  version: string;
  digest: string;
  /** A number from SQLite; PostgreSQL's BIGINT arrives as a string. */
  size: number | string;
  manifest_digest: string;
  manifest: string;
  bundle: string;
  description: string;
  license: string;
  published_at: string;
  /** 0/1 in SQLite, a boolean in PostgreSQL. */
  yanked: number | boolean;
  yank_reason: string | null;
}

export function toVersion(row: VersionRow): VersionRecord {
  return {
    namespace: row.namespace,
    name: row.name,
    version: row.version,
    digest: row.digest,
    size: Number(row.size),
    manifestDigest: row.manifest_digest,
    manifest: row.manifest,
    bundle: row.bundle,
    description: row.description,
    license: row.license,
    publishedAt: row.published_at,
    yanked: row.yanked === true || row.yanked === 1,
    yankReason: row.yank_reason,
  };
}

export interface TokenRow {
  id: string;
  namespace: string;
  label: string;
  hash: string;
  created_at: string;
  revoked_at: string | null;
}

export function toToken(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    namespace: row.namespace,
    label: row.label,
    hash: row.hash,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

export const bySemverDesc = (a: { version: string }, b: { version: string }): number =>
  semver.rcompare(a.version, b.version);

/** A package's summary from all its versions: latest is the highest unyanked release (else unyanked prerelease). */
export function summarizeVersions(
  namespace: string,
  name: string,
  versions: VersionRecord[],
): PackageSummary | undefined {
  if (versions.length === 0) return undefined;
  const all = [...versions].sort(bySemverDesc);
  const latest =
    all.find((v) => !v.yanked && semver.prerelease(v.version) === null) ?? all.find((v) => !v.yanked);
  const newest = all.reduce((a, b) => (a.publishedAt > b.publishedAt ? a : b));
  return {
    namespace,
    name,
    description: (latest ?? all[0]!).description,
    latest: latest?.version ?? null,
    versions: all.length,
    updatedAt: newest.publishedAt,
  };
}
