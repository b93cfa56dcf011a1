// The file name of a package on disk: `<namespace>-<name>-<version>.bpfleet.tgz`.
import type { Manifest } from '../manifest/types.js';

export const PACKAGE_FILE_SUFFIX = '.bpfleet.tgz';

/** Names and versions cannot hold `/`, so `acme/xdp-fw@1.2.0` → `acme-xdp-fw-1.2.0.bpfleet.tgz` stays one file. */
export function packageFileName(manifest: Pick<Manifest, 'name' | 'version'>): string {
  return `${manifest.name.replace('/', '-')}-${manifest.version}${PACKAGE_FILE_SUFFIX}`;
}
