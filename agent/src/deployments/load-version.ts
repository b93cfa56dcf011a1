// One version loaded: its collection, its policy maps filled, its programs attached as pinnable kernel links.
import {
  type AttachTarget,
  type Collection,
  FdLink,
  LegacyLink,
  loadCollection,
  type PinnableLink,
} from '@bpfleet/sdk/bpf';
import { NotSupportedError } from '@bpfleet/sdk/errors';
import type { Logger } from '../logger.js';
import type { DeploySpec } from '../ports.js';
import { configValues } from './attach-targets.js';
import { writeSpecMaps } from './deployment-maps.js';
import type { VersionMeta } from './deployment-meta.js';
import { deploymentRecord } from './deployment-record.js';
import type { PreparedDeploy } from './prepared-deploy.js';

export function loadVersion(
  spec: DeploySpec,
  p: PreparedDeploy,
  replaceMaps: Record<string, string>,
  logger: Logger,
): Promise<Collection> {
  if (p.btf) logger.info('no kernel BTF: CO-RE relocates against the package BTF', { id: spec.id });
  return loadCollection(p.objectSpec, {
    config: configValues(p.manifest, spec.config),
    replaceMaps,
    programs: p.programs,
    ...(p.btf && { btf: p.btf }),
  });
}

/** Writes the policy's entries after load and before attach or swap, and describes the version loaded. */
export function fillMaps(spec: DeploySpec, p: PreparedDeploy, collection: Collection): VersionMeta {
  try {
    const counts = writeSpecMaps(spec, p.manifest, (name) => collection.maps.get(name));
    return {
      deployment: deploymentRecord(spec, counts),
      programIds: Object.fromEntries(Object.keys(p.targets).map((n) => [n, collection.program(n).id])),
      maps: p.manifest.maps ?? {},
      ...(p.manifest.globals && { globals: p.manifest.globals }),
      targets: p.targets,
    };
  } catch (err) {
    collection.close();
    throw err;
  }
}

export async function attachProgram(
  collection: Collection,
  name: string,
  target: AttachTarget,
): Promise<PinnableLink> {
  const link = await collection.program(name).attach(target);
  // A legacy attachment (kernels without XDP or cgroup links) is pinned, checked and swapped by its program.
  if (link instanceof FdLink || link instanceof LegacyLink) return link;
  link.close();
  throw new NotSupportedError(
    'LINK_NOT_PINNABLE',
    `attach ${name}: ${link.description} is no kernel link (cannot be pinned or checked); use tcx`,
  );
}
