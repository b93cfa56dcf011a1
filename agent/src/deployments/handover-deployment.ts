// A rename without a gap: the new id takes over the old one's hooks, then the old id's links, pins and record go.
import { rmSync } from 'node:fs';
import type { AttachTarget, PinnableLink } from '@bpfleet/sdk/bpf';
import { BpfError, errorMessage } from '@bpfleet/sdk/errors';
import type { Logger } from '../logger.js';
import type { Deployment, DeploySpec } from '../ports.js';
import { persistedMaps, pinMaps } from './deployment-maps.js';
import type { DeploymentMetaStore, VersionMeta } from './deployment-meta.js';
import { type HeldDeployment, removeLinks } from './held-deployment.js';
import { attachProgram, fillMaps, loadVersion } from './load-version.js';
import { makeDeploymentDirs } from './pin-root.js';
import type { PreparedDeploy } from './prepared-deploy.js';
import { sameHook } from './program-set.js';

export interface HandoverContext {
  meta: DeploymentMetaStore;
  logger: Logger;
  /** What the loader holds; the old id leaves it and the new id joins it. */
  held: Map<string, HeldDeployment>;
  dir(id: string): string;
  maps(id: string): string;
  pin(id: string, name: string): string;
  /** The spec checked against the allow-list and unpacked, before anything loads. */
  prepare(spec: DeploySpec): PreparedDeploy;
  /** The link fds of a running deployment: held since attach or adopt, else opened from its pins. */
  hold(id: string, version: VersionMeta): HeldDeployment;
}

/**
 * A rename on the same hooks without a gap: a single-attach hook (XDP) both want keeps its link, which is
 * pinned under the new id and then swapped to the new program; other programs are attached before the old
 * links go. The new record says `handover` until the old id's pins and record are gone (see DeploymentMeta).
 */
export async function handoverDeployment(
  ctx: HandoverContext,
  from: Deployment,
  spec: DeploySpec,
): Promise<Deployment> {
  const fromMeta = await ctx.meta.read(from.id);
  if (!fromMeta)
    throw new BpfError('DEPLOYMENT_UNKNOWN', `hand over ${from.id} to ${spec.id}: no record of ${from.id}`);
  const prepared = ctx.prepare(spec);
  const old = ctx.hold(from.id, fromMeta.current);
  // State carries over only within one package (same map names can mean something else in another).
  const replaceMaps =
    fromMeta.current.deployment.package === spec.pkg.ref.package
      ? persistedMaps(ctx.maps(from.id), prepared.manifest, true)
      : {};
  const collection = await loadVersion(spec, prepared, replaceMaps, ctx.logger);
  const version = fillMaps(spec, prepared, collection);
  await ctx.meta.write(spec.id, { phase: 'handover', current: version, from: from.id });
  const dir = ctx.dir(spec.id);
  const links = new Map<string, PinnableLink>();
  const shared = new Map<string, string>();
  try {
    makeDeploymentDirs(dir);
    for (const [name, target] of Object.entries(prepared.targets)) {
      const oldName = target.kind === 'xdp' ? sharedHook(old, target, shared) : undefined;
      if (oldName) {
        const link = old.links.get(oldName) as PinnableLink;
        shared.set(oldName, name);
        // Pinned under the new id before the swap: a crash in between leaves the new id incomplete.
        link.pin(ctx.pin(spec.id, name));
        links.set(name, link);
        link.update(collection.program(name));
      } else {
        const link = await attachProgram(collection, name, target);
        links.set(name, link);
        link.pin(ctx.pin(spec.id, name));
      }
    }
  } catch (err) {
    undoHandover(ctx, spec.id, old, links, shared);
    collection.close();
    rmSync(dir, { recursive: true, force: true });
    await ctx.meta.remove(spec.id);
    throw err;
  }
  // Break, after make: the old links nobody took over, then the old id's pins (shared links stay pinned here).
  removeLinks(
    from.id,
    [...old.links].filter(([name]) => !shared.has(name)),
    ctx.logger,
  );
  rmSync(ctx.dir(from.id), { recursive: true, force: true });
  old.collection?.close();
  ctx.held.delete(from.id);
  pinMaps(ctx.maps(spec.id), prepared.manifest, collection);
  await ctx.meta.remove(from.id);
  await ctx.meta.write(spec.id, { phase: 'attached', current: version });
  ctx.held.set(spec.id, { version, links, collection });
  return version.deployment;
}

/** The old link on the same single-attach hook (XDP on that interface) not yet taken over, if any. */
function sharedHook(
  old: HeldDeployment,
  target: AttachTarget,
  taken: Map<string, string>,
): string | undefined {
  for (const [name, recorded] of Object.entries(old.version.targets ?? {})) {
    if (!taken.has(name) && old.links.has(name) && sameHook(recorded, target)) return name;
  }
  return undefined;
}

function undoHandover(
  ctx: HandoverContext,
  id: string,
  old: HeldDeployment,
  links: Map<string, PinnableLink>,
  shared: Map<string, string>,
): void {
  const ownLinks = [...links].filter(([name]) => ![...shared.values()].includes(name));
  removeLinks(id, ownLinks, ctx.logger);
  for (const [oldName, newName] of shared) {
    const link = old.links.get(oldName) as PinnableLink;
    try {
      if (old.collection) link.update(old.collection.program(oldName));
    } catch (err) {
      ctx.logger.error('hand-over: swap back failed', { id, error: errorMessage(err) });
    }
    // Only the new pin goes: the old one was never removed and keeps the link where it was.
    if (link.pinnedAt === ctx.pin(id, newName)) link.unpin();
  }
}
