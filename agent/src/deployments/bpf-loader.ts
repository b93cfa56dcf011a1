// The Loader on the real kernel: pins under <pinRoot>/<id>/, link fds held while it runs, make-before-break
// upgrades and hand-overs, adoption after restart, and the kernel check.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AttachTarget,
  type BpfMap,
  type Collection,
  FdLink,
  interfaceIndex,
  loadCollection,
  openPinnedMap,
} from '@bpfleet/sdk/bpf';
import { BpfError, errorMessage, NotSupportedError } from '@bpfleet/sdk/errors';
import type { Logger } from '../logger.js';
import type { Deployment, DeploySpec, KernelCheck, Loader, ProgramMetric } from '../ports.js';
import { adoptDeployments } from './adopt-deployments.js';
import type { AttachAllow } from './attach-allow.js';
import { configValues } from './attach-targets.js';
import { persistedMaps, pinMaps, writeSpecMaps } from './deployment-maps.js';
import type { DeploymentMetaStore, VersionMeta } from './deployment-meta.js';
import { deploymentRecord } from './deployment-record.js';
import { type HeldDeployment, linkPinNames, openPinnedLinks, removeLinks } from './held-deployment.js';
import { checkDeployment } from './kernel-check.js';
import { readMapMetrics } from './map-metrics.js';
import { makeDeploymentDirs } from './pin-root.js';
import { type PreparedDeploy, prepareDeploy, unpackedPackage } from './prepared-deploy.js';
import { planProgramSet, sameHook } from './program-set.js';

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
    return this.serial(() => this.handoverNow(from, spec));
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
    const collection = await this.load(
      spec,
      prepared,
      persistedMaps(this.maps(spec.id), prepared.manifest, false),
    );
    const version = this.fillMaps(spec, prepared, collection);
    await this.o.meta.write(spec.id, { phase: 'attaching', current: version });
    const links = new Map<string, FdLink>();
    try {
      makeDeploymentDirs(dir);
      for (const [name, target] of Object.entries(prepared.targets)) {
        const link = await this.attachProgram(collection, name, target);
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
    const collection = await this.load(
      spec,
      prepared,
      persistedMaps(this.maps(spec.id), prepared.manifest, true),
    );
    const version = this.fillMaps(spec, prepared, collection);
    const plan = planProgramSet(before.current, held.links, prepared.targets);
    await this.o.meta.write(spec.id, { phase: 'upgrading', current: version, previous: before.current });
    const added = new Map<string, FdLink>();
    const swapped: string[] = [];
    try {
      for (const name of plan.add) {
        const link = await this.attachProgram(collection, name, prepared.targets[name] as AttachTarget);
        added.set(name, link);
        // A program whose old link moves elsewhere keeps its pin name: pinned once the old link is gone.
        if (!held.links.has(name)) link.pin(this.pin(spec.id, name));
      }
      for (const name of plan.swap) {
        const link = held.links.get(name) as FdLink;
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
      plan.gone.map((name) => [name, held.links.get(name) as FdLink]),
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
    const links = this.held.get(id)?.links ?? new Map<string, FdLink>();
    // Pins this process does not hold (after a failed adopt, say) are opened and removed too.
    if (linkPinNames(this.dir(id)).some((name) => !links.has(name))) {
      for (const [name, link] of openPinnedLinks(id, this.dir(id), this.o.logger)) {
        if (links.has(name)) link.close();
        else links.set(name, link);
      }
    }
    await this.removeDeployment(id, links);
  }

  /**
   * A rename on the same hooks without a gap: a single-attach hook (XDP) both want keeps its link, which is
   * pinned under the new id and then swapped to the new program; other programs are attached before the old
   * links go. The new record says `handover` until the old id's pins and record are gone (see DeploymentMeta).
   */
  private async handoverNow(from: Deployment, spec: DeploySpec): Promise<Deployment> {
    const fromMeta = await this.o.meta.read(from.id);
    if (!fromMeta)
      throw new BpfError('DEPLOYMENT_UNKNOWN', `hand over ${from.id} to ${spec.id}: no record of ${from.id}`);
    const prepared = prepareDeploy(spec, this.o.arch, this.o.allow, this.o.cgroupRoot);
    const old = this.hold(from.id, fromMeta.current);
    // State carries over only within one package (same map names can mean something else in another).
    const replaceMaps =
      fromMeta.current.deployment.package === spec.pkg.ref.package
        ? persistedMaps(this.maps(from.id), prepared.manifest, true)
        : {};
    const collection = await this.load(spec, prepared, replaceMaps);
    const version = this.fillMaps(spec, prepared, collection);
    await this.o.meta.write(spec.id, { phase: 'handover', current: version, from: from.id });
    const dir = this.dir(spec.id);
    const links = new Map<string, FdLink>();
    const shared = new Map<string, string>();
    try {
      makeDeploymentDirs(dir);
      for (const [name, target] of Object.entries(prepared.targets)) {
        const oldName = target.kind === 'xdp' ? this.sharedHook(old, target, shared) : undefined;
        if (oldName) {
          const link = old.links.get(oldName) as FdLink;
          shared.set(oldName, name);
          // Pinned under the new id before the swap: a crash in between leaves the new id incomplete.
          link.pin(this.pin(spec.id, name));
          links.set(name, link);
          link.update(collection.program(name));
        } else {
          const link = await this.attachProgram(collection, name, target);
          links.set(name, link);
          link.pin(this.pin(spec.id, name));
        }
      }
    } catch (err) {
      this.undoHandover(spec.id, old, links, shared);
      collection.close();
      rmSync(dir, { recursive: true, force: true });
      await this.o.meta.remove(spec.id);
      throw err;
    }
    // Break, after make: the old links nobody took over, then the old id's pins (shared links stay pinned here).
    removeLinks(
      from.id,
      [...old.links].filter(([name]) => !shared.has(name)),
      this.o.logger,
    );
    rmSync(this.dir(from.id), { recursive: true, force: true });
    old.collection?.close();
    this.held.delete(from.id);
    pinMaps(this.maps(spec.id), prepared.manifest, collection);
    await this.o.meta.remove(from.id);
    await this.o.meta.write(spec.id, { phase: 'attached', current: version });
    this.held.set(spec.id, { version, links, collection });
    return version.deployment;
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
        return this.attachProgram(held.collection, name, target);
      };
      out.push(await checkDeployment(id, this.dir(id), held, reattach, ifindexOf));
    }
    return out;
  }

  async metrics(): Promise<ProgramMetric[]> {
    const out: ProgramMetric[] = [];
    for (const id of await this.o.meta.ids()) {
      const meta = await this.o.meta.read(id);
      if (meta) out.push(...readMapMetrics(id, this.maps(id), meta.current.maps, this.o.logger));
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

  private async removeDeployment(id: string, links: Map<string, FdLink>): Promise<void> {
    removeLinks(id, links, this.o.logger);
    rmSync(this.dir(id), { recursive: true, force: true });
    this.held.get(id)?.collection?.close();
    this.held.delete(id);
    await this.o.meta.remove(id);
  }

  private load(
    spec: DeploySpec,
    p: PreparedDeploy,
    replaceMaps: Record<string, string>,
  ): Promise<Collection> {
    if (p.btf) this.o.logger.info('no kernel BTF: CO-RE relocates against the package BTF', { id: spec.id });
    return loadCollection(p.objectSpec, {
      config: configValues(p.manifest, spec.config),
      replaceMaps,
      programs: p.programs,
      ...(p.btf && { btf: p.btf }),
    });
  }

  /** Writes the policy's entries after load and before attach or swap, and describes the version loaded. */
  private fillMaps(spec: DeploySpec, p: PreparedDeploy, collection: Collection): VersionMeta {
    try {
      const counts = writeSpecMaps(spec, p.manifest, (name) => collection.maps.get(name));
      return {
        deployment: deploymentRecord(spec, counts),
        programIds: Object.fromEntries(Object.keys(p.targets).map((n) => [n, collection.program(n).id])),
        maps: p.manifest.maps ?? {},
        targets: p.targets,
      };
    } catch (err) {
      collection.close();
      throw err;
    }
  }

  private async attachProgram(collection: Collection, name: string, target: AttachTarget): Promise<FdLink> {
    const link = await collection.program(name).attach(target);
    if (link instanceof FdLink) return link;
    link.close();
    throw new NotSupportedError(
      'LINK_NOT_PINNABLE',
      `attach ${name}: ${link.description} is no kernel link (cannot be pinned or checked); use tcx`,
    );
  }

  /** The link fds of a running deployment: held since attach or adopt, else opened from its pins. */
  private hold(id: string, version: VersionMeta): HeldDeployment {
    let held = this.held.get(id);
    if (!held) {
      held = { version, links: openPinnedLinks(id, this.dir(id), this.o.logger) };
      this.held.set(id, held);
    }
    return held;
  }

  /** The old link on the same single-attach hook (XDP on that interface) not yet taken over, if any. */
  private sharedHook(
    old: HeldDeployment,
    target: AttachTarget,
    taken: Map<string, string>,
  ): string | undefined {
    for (const [name, recorded] of Object.entries(old.version.targets ?? {})) {
      if (!taken.has(name) && old.links.has(name) && sameHook(recorded, target)) return name;
    }
    return undefined;
  }

  private undoHandover(
    id: string,
    old: HeldDeployment,
    links: Map<string, FdLink>,
    shared: Map<string, string>,
  ): void {
    const ownLinks = [...links].filter(([name]) => ![...shared.values()].includes(name));
    removeLinks(id, ownLinks, this.o.logger);
    for (const [oldName, newName] of shared) {
      const link = old.links.get(oldName) as FdLink;
      try {
        if (old.collection) link.update(old.collection.program(oldName));
      } catch (err) {
        this.o.logger.error('hand-over: swap back failed', { id, error: errorMessage(err) });
      }
      // Only the new pin goes: the old one was never removed and keeps the link where it was.
      if (link.pinnedAt === this.pin(id, newName)) link.unpin();
    }
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
