// What each deployment is, beside its pins: bpffs holds no regular files, so this lives in the data directory.
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { MapDecl } from '@bpfleet/sdk/manifest';
import type { Deployment } from '../ports.js';
import { writeFileAtomic } from '../state/state-file.js';

export interface VersionMeta {
  deployment: Deployment;
  /** Kernel program id per program name, to tell after a crash which version a link runs. */
  programIds: Record<string, number>;
  maps: Record<string, MapDecl>;
}

/** Written before every kernel change, so a crash at any point can be read back by `adopt`. */
export interface DeploymentMeta {
  phase: 'attaching' | 'upgrading' | 'attached';
  current: VersionMeta;
  previous?: VersionMeta;
}

export class DeploymentMetaStore {
  constructor(private readonly dir: string) {}

  async read(id: string): Promise<DeploymentMeta | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir, `${id}.json`), 'utf8')) as DeploymentMeta;
    } catch {
      return undefined;
    }
  }

  write(id: string, meta: DeploymentMeta): Promise<void> {
    return writeFileAtomic(join(this.dir, `${id}.json`), JSON.stringify(meta));
  }

  async remove(id: string): Promise<void> {
    await unlink(join(this.dir, `${id}.json`)).catch(() => {});
  }

  async ids(): Promise<string[]> {
    try {
      return (await readdir(this.dir))
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.slice(0, -'.json'.length));
    } catch {
      return [];
    }
  }
}
