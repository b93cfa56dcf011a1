// The Loader on the real kernel: pins under <pinRoot>/<id>/, upgrades by link update, adoption after restart.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { PackageContents } from '@bpfleet/sdk/archive';
import {
  type BpfMap,
  type Collection,
  type FdLink,
  loadCollection,
  openPinnedLink,
  openPinnedMap,
} from '@bpfleet/sdk/bpf';
import { BpfError, errorMessage, NotSupportedError } from '@bpfleet/sdk/errors';
import type { Manifest } from '@bpfleet/sdk/manifest';
import type { Logger } from '../logger.js';
import type { Deployment, DeploySpec, KernelCheck, Loader, ProgramMetric } from '../ports.js';
import { attachTarget, configValues } from './attach-targets.js';
import type { DeploymentMetaStore, VersionMeta } from './deployment-meta.js';
import { deploymentRecord } from './deployment-record.js';
import { readMapMetrics } from './map-metrics.js';
import { writePolicyMaps } from './map-writer.js';

export interface BpfLoaderOptions {
  pinRoot: string;
  meta: DeploymentMetaStore;
  arch: string;
  cgroupRoot: string;
  logger: Logger;
}

export class BpfLoader implements Loader {
  /** Collections loaded by this process, kept open so a failed health check can swap the old program back. */
  private readonly open = new Map<string, Collection>();

  constructor(private readonly o: BpfLoaderOptions) {}

  private dir(id: string): string {
    return join(this.o.pinRoot, id);
  }

  async adopt(): Promise<Deployment[]> {
    mkdirSync(this.o.pinRoot, { recursive: true });
    const found: Deployment[] = [];
    const ids = new Set([...readdirSync(this.o.pinRoot), ...(await this.o.meta.ids())]);
    for (const id of ids) {
      const meta = await this.o.meta.read(id);
      const links = this.linkPins(id);
      const running = meta ? this.runningVersion(id, meta.current, meta.previous) : undefined;
      if (!meta || !running || links.length === 0) {
        // Half an attach (a crash before its pins, or pins without a record): nothing is trusted, clean it.
        this.o.logger.warn('removing leftover deployment', { id, phase: meta?.phase ?? 'none' });
        await this.detach(id);
        continue;
      }
      if (running !== meta.current || meta.phase !== 'attached') {
        await this.o.meta.write(id, { phase: 'attached', current: running });
      }
      found.push(running.deployment);
    }
    return found;
  }

  async attach(spec: DeploySpec): Promise<Deployment> {
    const { manifest, object } = this.unpacked(spec);
    const dir = this.dir(spec.id);
    // Maps a previous deployment of this id persisted (its state) are reused as they are.
    const replaceMaps = this.persistedMaps(spec.id, manifest, false);
    const collection = await loadCollection(object, {
      config: configValues(manifest, spec.config),
      replaceMaps,
    });
    // The policy's entries go in after load and before attach: the program never runs with empty maps.
    let counts: Record<string, number> | undefined;
    try {
      counts = this.writeMaps(spec, manifest, (name) => collection.maps.get(name));
    } catch (err) {
      collection.close();
      throw err;
    }
    const version = this.versionMeta(spec, manifest, collection, counts);
    await this.o.meta.write(spec.id, { phase: 'attaching', current: version });
    const links: FdLink[] = [];
    try {
      mkdirSync(join(dir, 'links'), { recursive: true });
      mkdirSync(join(dir, 'maps'), { recursive: true });
      for (const program of collection.programs.values()) {
        const link = (await program.attach(
          attachTarget(program.spec, manifest, spec.attach, this.o.cgroupRoot),
        )) as FdLink;
        links.push(link);
        link.pin(join(dir, 'links', program.name));
      }
      this.pinMaps(spec.id, manifest, collection);
      await this.o.meta.write(spec.id, { phase: 'attached', current: version });
    } catch (err) {
      for (const link of links) {
        link.detach();
        link.close();
      }
      collection.close();
      rmSync(dir, { recursive: true, force: true });
      await this.o.meta.remove(spec.id);
      throw err;
    }
    for (const link of links) link.close();
    this.open.set(spec.id, collection);
    return version.deployment;
  }

  // The running version is read from the crash-safe deployment record, not from the caller's view.
  async upgrade(_current: Deployment, spec: DeploySpec): Promise<Deployment> {
    const { manifest, object } = this.unpacked(spec);
    const before = await this.o.meta.read(spec.id);
    if (!before)
      throw new BpfError('DEPLOYMENT_UNKNOWN', `upgrade ${spec.id}: no record of the running version`);
    // Before the swap: a load failure (verifier, incompatible map) leaves the old version untouched.
    const collection = await loadCollection(object, {
      config: configValues(manifest, spec.config),
      replaceMaps: this.persistedMaps(spec.id, manifest, true),
    });
    const names = [...collection.programs.keys()].sort();
    const pinned = this.linkPins(spec.id).sort();
    if (names.join() !== pinned.join()) {
      collection.close();
      throw new BpfError(
        'UPGRADE_INCOMPATIBLE',
        `upgrade ${spec.id}: programs ${names} differ from the running ${pinned}`,
      );
    }
    // Before the swap; persisted maps are shared with the running version, which sees the difference too.
    let counts: Record<string, number> | undefined;
    try {
      counts = this.writeMaps(spec, manifest, (name) => collection.maps.get(name));
    } catch (err) {
      collection.close();
      throw err;
    }
    const version = this.versionMeta(spec, manifest, collection, counts);
    await this.o.meta.write(spec.id, { phase: 'upgrading', current: version, previous: before.current });
    const swapped: Array<{ link: FdLink; name: string }> = [];
    const old = this.open.get(spec.id);
    try {
      for (const name of names) {
        const link = openPinnedLink(join(this.dir(spec.id), 'links', name));
        swapped.push({ link, name });
        link.update(collection.program(name));
        // Health: the link must now run exactly the program just loaded.
        if (link.info().programId !== collection.program(name).id) {
          throw new BpfError(
            'HEALTH_CHECK_FAILED',
            `upgrade ${spec.id}: link ${name} does not run the new program`,
          );
        }
      }
    } catch (err) {
      const restored = old ? this.swapBack(swapped, old) : false;
      for (const { link } of swapped) link.close();
      collection.close();
      await this.o.meta.write(spec.id, {
        phase: restored || swapped.length === 0 ? 'attached' : 'upgrading',
        current: before.current,
        previous: version,
      });
      throw err;
    }
    for (const { link } of swapped) link.close();
    this.pinMaps(spec.id, manifest, collection);
    await this.o.meta.write(spec.id, { phase: 'attached', current: version });
    old?.close();
    this.open.set(spec.id, collection);
    return version.deployment;
  }

  async updateMaps(current: Deployment, spec: DeploySpec): Promise<Deployment> {
    const { manifest } = this.unpacked(spec);
    const meta = await this.o.meta.read(spec.id);
    if (!meta || meta.current.deployment.digest !== current.digest) {
      throw new BpfError('DEPLOYMENT_UNKNOWN', `update maps ${spec.id}: no record of the running version`);
    }
    const opened = new Map<string, BpfMap>();
    const mapOf = (name: string) => {
      const path = join(this.dir(spec.id), 'maps', name);
      if (!opened.has(name) && existsSync(path)) opened.set(name, openPinnedMap(path));
      return opened.get(name);
    };
    let counts: Record<string, number> | undefined;
    try {
      counts = this.writeMaps(spec, manifest, mapOf);
    } finally {
      for (const map of opened.values()) map.close();
    }
    const deployment: Deployment = { ...meta.current.deployment };
    delete deployment.mapsDigest;
    delete deployment.mapEntries;
    if (spec.mapsDigest) deployment.mapsDigest = spec.mapsDigest;
    if (counts) deployment.mapEntries = counts;
    await this.o.meta.write(spec.id, { phase: 'attached', current: { ...meta.current, deployment } });
    return deployment;
  }

  async detach(id: string): Promise<void> {
    const dir = this.dir(id);
    for (const name of this.linkPins(id)) {
      try {
        const link = openPinnedLink(join(dir, 'links', name));
        link.detach();
        link.close();
      } catch (err) {
        this.o.logger.warn('detach: pinned link unreadable, removing the pin', {
          id,
          name,
          error: errorMessage(err),
        });
      }
    }
    rmSync(dir, { recursive: true, force: true });
    this.open.get(id)?.close();
    this.open.delete(id);
    await this.o.meta.remove(id);
  }

  // In progress (issue #14): replaced by the make-before-break hand-over and the kernel check.
  async handover(from: Deployment, spec: DeploySpec): Promise<Deployment> {
    await this.detach(from.id);
    return this.attach(spec);
  }

  async check(): Promise<KernelCheck[]> {
    return (await this.o.meta.ids()).map((id) => ({ id }));
  }

  async metrics(): Promise<ProgramMetric[]> {
    const out: ProgramMetric[] = [];
    for (const id of await this.o.meta.ids()) {
      const meta = await this.o.meta.read(id);
      if (meta) out.push(...readMapMetrics(id, join(this.dir(id), 'maps'), meta.current.maps, this.o.logger));
    }
    return out;
  }

  private unpacked(spec: DeploySpec): { manifest: Manifest; object: Uint8Array } {
    const contents = spec.pkg.contents as PackageContents;
    const manifest = spec.pkg.manifest as Manifest;
    const object = contents.object(this.o.arch);
    if (!object) {
      throw new NotSupportedError(
        'ARCH_NOT_SUPPORTED',
        `deploy ${spec.id} ${manifest.name}@${manifest.version}: no object for ${this.o.arch}`,
      );
    }
    return { manifest, object };
  }

  private writeMaps(
    spec: DeploySpec,
    manifest: Manifest,
    mapOf: (name: string) => BpfMap | undefined,
  ): Record<string, number> | undefined {
    if (!spec.maps) return undefined;
    const where = `deploy ${spec.id} ${manifest.name}@${manifest.version}`;
    return writePolicyMaps(where, manifest, mapOf, spec.maps);
  }

  private versionMeta(
    spec: DeploySpec,
    manifest: Manifest,
    collection: Collection,
    counts: Record<string, number> | undefined,
  ): VersionMeta {
    return {
      deployment: deploymentRecord(spec, counts),
      programIds: Object.fromEntries([...collection.programs].map(([name, p]) => [name, p.id])),
      maps: manifest.maps ?? {},
    };
  }

  private linkPins(id: string): string[] {
    const dir = join(this.dir(id), 'links');
    return existsSync(dir) ? readdirSync(dir) : [];
  }

  private persistedMaps(id: string, manifest: Manifest, upgrading: boolean): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, decl] of Object.entries(manifest.maps ?? {})) {
      const path = join(this.dir(id), 'maps', name);
      if (decl.persist && !(upgrading && decl.resetOnUpgrade) && existsSync(path)) out[name] = path;
    }
    return out;
  }

  /** Pins every declared map (metrics are read through pins, also after a restart); reused maps stay as they are. */
  private pinMaps(id: string, manifest: Manifest, collection: Collection): void {
    for (const name of Object.keys(manifest.maps ?? {})) {
      const map = collection.maps.get(name);
      if (!map) continue;
      const path = join(this.dir(id), 'maps', name);
      if (existsSync(path)) rmSync(path);
      map.pin(path);
    }
  }

  private runningVersion(id: string, current: VersionMeta, previous?: VersionMeta): VersionMeta | undefined {
    const names = this.linkPins(id);
    if (names.length === 0) return undefined;
    const ids = names.map((name) => {
      try {
        const link = openPinnedLink(join(this.dir(id), 'links', name));
        const programId = link.info().programId;
        link.close();
        return [name, programId] as const;
      } catch {
        return [name, -1] as const;
      }
    });
    const runs = (v: VersionMeta | undefined) => v && ids.every(([name, pid]) => v.programIds[name] === pid);
    if (runs(current)) return current;
    if (runs(previous)) return previous;
    return undefined;
  }

  private swapBack(swapped: Array<{ link: FdLink; name: string }>, old: Collection): boolean {
    try {
      for (const { link, name } of swapped) link.update(old.program(name));
      return true;
    } catch (err) {
      this.o.logger.error('swap back failed', { error: errorMessage(err) });
      return false;
    }
  }
}
