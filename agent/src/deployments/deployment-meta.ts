// What each deployment is, beside its pins: bpffs holds no regular files, so this lives in the data directory.
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { AttachTarget } from '@bpfleet/sdk/bpf';
import type { GlobalsDecl, MapDecl } from '@bpfleet/sdk/manifest';
import type { Deployment } from '../ports.js';
import { writeFileAtomic } from '../state/state-file.js';

export interface VersionMeta {
  deployment: Deployment;
  /** Kernel program id per program name, to tell after a crash which version a link runs. */
  programIds: Record<string, number>;
  maps: Record<string, MapDecl>;
  /** The manifest's globals as metric sources (their `.bss`/`.data` maps are pinned as `__bss`/`__data`). */
  globals?: GlobalsDecl;
  /** Where each program was attached (final target after defaults): what the kernel check compares against. */
  targets?: Record<string, AttachTarget>;
}

/**
 * Written before every kernel change, so a crash at any point can be read back by `adopt`:
 * - `attaching`: adopted only when every program of `current` is pinned and runs its recorded id, else removed.
 * - `upgrading` (`previous` → `current`, the program set may change): rolled forward when every program of
 *   `current` is pinned running its id (pins of programs `current` lacks are removed), else rolled back the same
 *   way to `previous`, else removed (the agent deploys it again from the package).
 * - `handover` (this id takes over the hooks of `from`): finished when every program of `current` is pinned
 *   running its id (`from`'s pins and record go), else this id's pins are unlinked (a link shared with `from`
 *   stays pinned there) and `from` is judged by its own record.
 */
export interface DeploymentMeta {
  phase: 'attaching' | 'upgrading' | 'attached' | 'handover';
  current: VersionMeta;
  previous?: VersionMeta;
  /** With `handover`: the deployment id whose hooks this one takes over. */
  from?: string;
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
