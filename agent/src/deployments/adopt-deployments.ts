// After a restart or a crash: every deployment in the pin root or the records, taken over as it runs (its link
// fds held again), finished or rolled back where a crash interrupted it, or cleaned away when nothing is trusted.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import type { PinnableLink } from '@bpfleet/sdk/bpf';
import type { Logger } from '../logger.js';
import type { Deployment } from '../ports.js';
import { type Recovery, recoverVersion } from './adopt-recovery.js';
import type { DeploymentMeta, DeploymentMetaStore } from './deployment-meta.js';
import { type HeldDeployment, openPinnedLinks, programIdsOf, removeLinks } from './held-deployment.js';
import { removeOrphanAttachments } from './orphan-attachments.js';

export interface AdoptContext {
  pinRoot: string;
  meta: DeploymentMetaStore;
  logger: Logger;
  /** What the loader holds; adopted deployments are added. */
  held: Map<string, HeldDeployment>;
  dir(id: string): string;
  /** Takes a deployment out of the kernel entirely: links, pins, record. */
  remove(id: string, links: Map<string, PinnableLink>): Promise<void>;
}

export async function adoptDeployments(ctx: AdoptContext): Promise<Deployment[]> {
  mkdirSync(ctx.pinRoot, { recursive: true });
  const metas = new Map<string, DeploymentMeta | undefined>();
  for (const id of new Set([...readdirSync(ctx.pinRoot), ...(await ctx.meta.ids())])) {
    metas.set(id, await ctx.meta.read(id));
  }
  const found: Deployment[] = [];
  // What this process already holds is adopted as it is (a second call must not open its links again).
  for (const [id, held] of ctx.held) {
    metas.delete(id);
    found.push(held.version.deployment);
  }
  // Hand-overs first: finishing one removes the deployment it took over from.
  for (const [id, meta] of metas) {
    if (meta?.phase !== 'handover') continue;
    metas.delete(id);
    const adopted = await adoptHandover(ctx, id, meta);
    if (adopted) {
      if (meta.from) metas.delete(meta.from);
      found.push(adopted);
    }
  }
  for (const [id, meta] of metas) {
    const links = openPinnedLinks(id, ctx.dir(id), ctx.logger, {
      ...meta?.previous?.targets,
      ...meta?.current.targets,
    });
    const recovered = meta && recoverVersion(meta, programIdsOf(links));
    if (!meta || !recovered) {
      // Half an attach (a crash before its pins, or pins without a record): nothing is trusted, clean it.
      ctx.logger.warn('removing leftover deployment', { id, phase: meta?.phase ?? 'none' });
      const pinned = new Set(links.keys());
      await ctx.remove(id, links);
      if (meta) removeOrphanAttachments(id, meta, pinned, ctx.logger);
      continue;
    }
    found.push(await takeOver(ctx, id, meta, recovered, links));
  }
  return found;
}

async function adoptHandover(
  ctx: AdoptContext,
  id: string,
  meta: DeploymentMeta,
): Promise<Deployment | undefined> {
  const links = openPinnedLinks(id, ctx.dir(id), ctx.logger, meta.current.targets);
  const recovered = recoverVersion({ phase: 'attached', current: meta.current }, programIdsOf(links));
  if (!recovered) {
    // Unpin only: a link shared with `from` is still pinned there and `from`'s own record decides its fate.
    ctx.logger.warn('undoing an unfinished hand-over', { id, from: meta.from });
    for (const link of links.values()) link.close();
    rmSync(ctx.dir(id), { recursive: true, force: true });
    await ctx.meta.remove(id);
    return undefined;
  }
  if (meta.from) {
    rmSync(ctx.dir(meta.from), { recursive: true, force: true });
    await ctx.meta.remove(meta.from);
  }
  return takeOver(ctx, id, meta, recovered, links);
}

/** Removes the links of programs the running version lacks, records it as attached, holds its link fds. */
async function takeOver(
  ctx: AdoptContext,
  id: string,
  meta: DeploymentMeta,
  recovered: Recovery,
  links: Map<string, PinnableLink>,
): Promise<Deployment> {
  removeLinks(
    id,
    recovered.extra.map((name) => [name, links.get(name) as PinnableLink]),
    ctx.logger,
  );
  for (const name of recovered.extra) links.delete(name);
  if (recovered.version !== meta.current || meta.phase !== 'attached') {
    await ctx.meta.write(id, { phase: 'attached', current: recovered.version });
  }
  ctx.held.set(id, { version: recovered.version, links });
  return recovered.version.deployment;
}
