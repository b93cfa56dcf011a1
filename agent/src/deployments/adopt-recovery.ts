// After a restart or a crash: which recorded version the pinned links run, and which pins belong to none.
import type { DeploymentMeta, VersionMeta } from './deployment-meta.js';

export interface Recovery {
  version: VersionMeta;
  /** Pinned links of programs the version does not have (a crash mid program-set change): to remove. */
  extra: string[];
}

/**
 * `pinned`: program id each pinned link runs (-1 when unreadable), by pin name. The newer version wins when every
 * one of its programs is pinned and runs its recorded id (roll forward), else the older one (roll back).
 */
export function recoverVersion(
  meta: DeploymentMeta,
  pinned: ReadonlyMap<string, number>,
): Recovery | undefined {
  for (const version of [meta.current, meta.previous]) {
    if (!version) continue;
    const names = Object.keys(version.programIds);
    if (names.length === 0) continue;
    if (names.every((name) => pinned.get(name) === version.programIds[name])) {
      return { version, extra: [...pinned.keys()].filter((name) => !(name in version.programIds)) };
    }
  }
  return undefined;
}
