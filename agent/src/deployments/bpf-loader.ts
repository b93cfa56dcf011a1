// The Loader on the real kernel: pins under <pinRoot>/<id>/, link fds held while it runs, make-before-break
// upgrades and hand-overs, adoption after restart, and the kernel check.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AttachTarget,
  type BpfMap,
  interfaceIndex,
  openPinnedMap,
  type PinnableLink,
} from '@bpfleet/sdk/bpf';
import { BpfError, errorMessage } from '@bpfleet/sdk/errors';
import type { Logger } from '../logger.js';
import type { Deployment, DeploySpec, KernelCheck, Loader, ProgramMetric } from '../ports.js';
import { adoptDeployments } from './adopt-deployments.js';
import type { AttachAllow } from './attach-allow.js';
import { persistedMaps, pinMaps, writeSpecMaps } from './deployment-maps.js';
import type { DeploymentMetaStore, VersionMeta } from './deployment-meta.js';
import { handoverDeployment } from './handover-deployment.js';
import { type HeldDeployment, linkPinNames, openPinnedLinks, removeLinks } from './held-deployment.js';
import { checkDeployment } from './kernel-check.js';
import { attachProgram, fillMaps, loadVersion } from './load-version.js';
import { readMapMetrics } from './map-metrics.js';
import { makeDeploymentDirs } from './pin-root.js';
import { prepareDeploy, unpackedPackage } from './prepared-deploy.js';
import { planProgramSet } from './program-set.js';

export interface BpfLoaderOptions {
  pinRoot: string;
  meta: DeploymentMetaStore;
  arch: string;
  cgroupRoot: string;
  /** The device owner's allow-list, checked against every program's final target before anything loads. */
  allow: AttachAllow;
  logger: Logger;
}

export class BpfLoader implements Loader {
  /** Per deployment id: the link fds (and the collection when loaded here) held open while it runs. */
  private readonly held = new Map<string, HeldDeployment>();

  constructor(private readonly o: BpfLoaderOptions) {}

  // One kernel change at a time: a check must never see (and "repair") an upgrade or hand-over half done.
  private queue: Promise<unknown> = Promise.resolve();
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => {});
    return run;
  }

  adopt(): Promise<Deployment[]> {
    return this.serial(() => this.adoptNow());
  }

  attach(spec: DeploySpec): Promise<Deployment> {
    return this.serial(() => this.attachNow(spec));
  }

  upgrade(current: Deployment, spec: DeploySpec): Promise<Deployment> {
    return this.serial(() => this.upgradeNow(current, spec));
  }

  updateMaps(current: Deployment, spec: DeploySpec): Promise<Deployment> {
    return this.serial(() => this.updateMapsNow(current, spec));
  }

  detach(id: string): Promise<void> {
    return this.serial(() => this.detachNow(id));
  }

  handover(from: Deployment, spec: DeploySpec): Promise<Deployment> {
    return this.serial(() =>
      handoverDeployment(
        {
          meta: this.o.meta,
          logger: this.o.logger,
          held: this.held,
          dir: (id) => this.dir(id),
          maps: (id) => this.maps(id),
          pin: (id, name) => this.pin(id, name),
          prepare: (s) => prepareDeploy(s, this.o.arch, this.o.allow, this.o.cgroupRoot),
          hold: (id, version) => this.hold(id, version),
        },
        from,
        spec,
      ),
    );
  }

  check(): Promise<KernelCheck[]> {
    return this.serial(() => this.checkNow());
  }

  private dir(id: string): string {
    return join(this.o.pinRoot, id);
  }

  private maps(id: string): string {
    return join(this.dir(id), 'maps');
  }

  private pin(id: string, name: string): string {
    return join(this.dir(id), 'links', name);
  }

  private adoptNow(): Promise<Deployment[]> {
    return adoptDeployments({
      pinRoot: this.o.pinRoot,
      meta: this.o.meta,
      logger: this.o.logger,
      held: this.held,
      dir: (id) => this.dir(id),
      remove: (id, links) => this.removeDeployment(id, links),
    });
  }

  private async attachNow(spec: DeploySpec): Promise<Deployment> {
    const prepared = prepareDeploy(spec, this.o.arch, this.o.allow, this.o.cgroupRoot);
    const dir = this.dir(spec.id);
    // Maps a previous deployment of this id persisted (its state) are reused as they are.
    const collection = await loadVersion(
      spec,
      prepared,
      persistedMaps(this.maps(spec.id), prepared.manifest, false),
      this.o.logger,
    );
    const version = fillMaps(spec, prepared, collection);
    await this.o.meta.write(spec.id, { phase: 'attaching', current: version });
    const links = new Map<string, PinnableLink>();
    try {
      makeDeploymentDirs(dir);
      for (const [name, target] of Object.entries(prepared.targets)) {
        const link = await attachProgram(collection, name, target);
        links.set(name, link);
        link.pin(this.pin(spec.id, name));
      }
      pinMaps(this.maps(spec.id), prepared.manifest, collection);
      await this.o.meta.write(spec.id, { phase: 'attached', current: version });
    } catch (err) {
      removeLinks(spec.id, links, this.o.logger);
      collection.close();
      rmSync(dir, { recursive: true, force: true });
      await this.o.meta.remove(spec.id);
      throw err;
    }
    this.held.set(spec.id, { version, links, collection });
    return version.deployment;
  }

  /**
   * Programs in both versions are swapped in their links; new ones are attached and pinned before anything old
   * goes; gone ones are removed after the swap. The running version is read from the crash-safe record.
   */
  private async upgradeNow(_current: Deployment, spec: DeploySpec): Promise<Deployment> {
    const before = await this.o.meta.read(spec.id);
    if (!before)
      throw new BpfError('DEPLOYMENT_UNKNOWN', `upgrade ${spec.id}: no record of the running version`);
    const prepared = prepareDeploy(spec, this.o.arch, this.o.allow, this.o.cgroupRoot);
    const held = this.hold(spec.id, before.current);
    // Before the swap: a load failure (verifier, incompatible map) leaves the old version untouched.
    const collection = await loadVersion(
      spec,
      prepared,
      persistedMaps(this.maps(spec.id), prepared.manifest, true),
      this.o.logger,
    );
    const version = fillMaps(spec, prepared, collection);
    const plan = planProgramSet(before.current, held.links, prepared.targets);
    await this.o.meta.write(spec.id, { phase: 'upgrading', current: version, previous: before.current });
    const added = new Map<string, PinnableLink>();
    const swapped: string[] = [];
    try {
      for (const name of plan.add) {
        const link = await attachProgram(collection, name, prepared.targets[name] as AttachTarget);
        added.set(name, link);
        // A program whose old link moves elsewhere keeps its pin name: pinned once the old link is gone.
        if (!held.links.has(name)) link.pin(this.pin(spec.id, name));
      }
      for (const name of plan.swap) {
        const link = held.links.get(name) as PinnableLink;
        swapped.push(name);
        link.update(collection.program(name));
        // Health: the link must now run exactly the program just loaded.
        if (link.info().programId !== version.programIds[name]) {
          throw new BpfError(
            'HEALTH_CHECK_FAILED',
            `upgrade ${spec.id}: link ${name} does not run the new program`,
          );
        }
      }
    } catch (err) {
      const restored = this.swapBack(held, swapped);
      removeLinks(spec.id, added, this.o.logger);
      collection.close();
      await this.o.meta.write(spec.id, {
        phase: restored ? 'attached' : 'upgrading',
        current: before.current,
        previous: version,
      });
      throw err;
    }
    // Break, after make: links of programs the new version lacks (or moved elsewhere) go now.
    removeLinks(
      spec.id,
      plan.gone.map((name) => [name, held.links.get(name) as PinnableLink]),
      this.o.logger,
    );
    for (const name of plan.gone) held.links.delete(name);
    for (const [name, link] of added) {
      if (!link.pinnedAt) link.pin(this.pin(spec.id, name));
      held.links.set(name, link);
    }
    pinMaps(this.maps(spec.id), prepared.manifest, collection);
    await this.o.meta.write(spec.id, { phase: 'attached', current: version });
    held.collection?.close();
    this.held.set(spec.id, { version, links: held.links, collection });
    return version.deployment;
  }

  private async updateMapsNow(current: Deployment, spec: DeploySpec): Promise<Deployment> {
    const { manifest } = unpackedPackage(spec, this.o.arch);
    const meta = await this.o.meta.read(spec.id);
    if (!meta || meta.current.deployment.digest !== current.digest) {
      throw new BpfError('DEPLOYMENT_UNKNOWN', `update maps ${spec.id}: no record of the running version`);
    }
    const opened = new Map<string, BpfMap>();
    const mapOf = (name: string) => {
      const path = join(this.maps(spec.id), name);
      if (!opened.has(name) && existsSync(path)) opened.set(name, openPinnedMap(path));
      return opened.get(name);
    };
    let counts: Record<string, number> | undefined;
    try {
      counts = writeSpecMaps(spec, manifest, mapOf);
    } finally {
      for (const map of opened.values()) map.close();
    }
    const deployment: Deployment = { ...meta.current.deployment };
    delete deployment.mapsDigest;
    delete deployment.mapEntries;
    if (spec.mapsDigest) deployment.mapsDigest = spec.mapsDigest;
    if (counts) deployment.mapEntries = counts;
    const version = { ...meta.current, deployment };
    await this.o.meta.write(spec.id, { phase: 'attached', current: version });
    const held = this.held.get(spec.id);
    if (held) held.version = version;
    return deployment;
  }

  private async detachNow(id: string): Promise<void> {
    const links = this.held.get(id)?.links ?? new Map<string, PinnableLink>();
    // Pins this process does not hold (after a failed adopt, say) are opened and removed too.
    if (linkPinNames(this.dir(id)).some((name) => !links.has(name))) {
      const targets = (await this.o.meta.read(id))?.current.targets;
      for (const [name, link] of openPinnedLinks(id, this.dir(id), this.o.logger, targets)) {
        if (links.has(name)) link.close();
        else links.set(name, link);
      }
    }
    await this.removeDeployment(id, links);
  }

  private async checkNow(): Promise<KernelCheck[]> {
    const out: KernelCheck[] = [];
    // One lookup per interface name per round (an ioctl on a fresh socket each).
    const ifindexes = new Map<string, number>();
    const ifindexOf = (name: string) => {
      const known = ifindexes.get(name);
      if (known !== undefined) return known;
      const index = interfaceIndex(name);
      ifindexes.set(name, index);
      return index;
    };
    for (const [id, held] of this.held) {
      const reattach = (name: string, target: AttachTarget) => {
        if (!held.collection) throw new BpfError('NOT_HELD', `check ${id}: no collection held`);
        return attachProgram(held.collection, name, target);
      };
      out.push(await checkDeployment(id, this.dir(id), held, reattach, ifindexOf));
    }
    return out;
  }

  async metrics(): Promise<ProgramMetric[]> {
    const out: ProgramMetric[] = [];
    for (const id of await this.o.meta.ids()) {
      const meta = await this.o.meta.read(id);
      if (!meta) continue;
      const { package: pkg, version } = meta.current.deployment;
      const owner = { deployment: id, package: pkg, version };
      out.push(
        ...readMapMetrics(owner, this.maps(id), meta.current.maps, this.o.logger, meta.current.globals),
      );
    }
    return out;
  }

  /** Closes every fd this process holds without detaching (what exiting does): the pins keep everything running. */
  release(): void {
    for (const held of this.held.values()) {
      for (const link of held.links.values()) link.close();
      held.collection?.close();
    }
    this.held.clear();
  }

  private async removeDeployment(id: string, links: Map<string, PinnableLink>): Promise<void> {
    removeLinks(id, links, this.o.logger);
    rmSync(this.dir(id), { recursive: true, force: true });
    this.held.get(id)?.collection?.close();
    this.held.delete(id);
    await this.o.meta.remove(id);
  }

  /** The link fds of a running deployment: held since attach or adopt, else opened from its pins. */
  private hold(id: string, version: VersionMeta): HeldDeployment {
    let held = this.held.get(id);
    if (!held) {
      held = { version, links: openPinnedLinks(id, this.dir(id), this.o.logger, version.targets) };
      this.held.set(id, held);
    }
    return held;
  }

  private swapBack(held: HeldDeployment, swapped: string[]): boolean {
    if (swapped.length === 0) return true;
    const old = held.collection;
    if (!old) return false;
    try {
      for (const name of swapped) held.links.get(name)?.update(old.program(name));
      return true;
    } catch (err) {
      this.o.logger.error('swap back failed', { error: errorMessage(err) });
      return false;
    }
  }
}
