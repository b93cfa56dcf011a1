// The JSON shapes the API returns for catalog records (what is public about them).
import type { PackageSummary, VersionRecord } from '../catalog/catalog.js';

export function versionView(v: VersionRecord) {
  return {
    package: `${v.namespace}/${v.name}`,
    version: v.version,
    digest: v.digest,
    size: v.size,
    manifestDigest: v.manifestDigest,
    description: v.description,
    license: v.license,
    publishedAt: v.publishedAt,
    yanked: v.yanked,
    yankReason: v.yankReason,
  };
}

export function packageView(p: PackageSummary) {
  return {
    package: `${p.namespace}/${p.name}`,
    namespace: p.namespace,
    name: p.name,
    description: p.description,
    latest: p.latest,
    versions: p.versions,
    updatedAt: p.updatedAt,
  };
}
