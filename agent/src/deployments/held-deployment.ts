// What the loader holds open per deployment: its link fds (a deleted pin then detaches nothing) and, when this
// process loaded it, the collection (to swap back, re-attach and repair from).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AttachTarget,
  type Collection,
  openPinnedAttachment,
  type PinnableLink,
} from '@bpfleet/sdk/bpf';
import { errorMessage } from '@bpfleet/sdk/errors';
import type { Logger } from '../logger.js';
import type { VersionMeta } from './deployment-meta.js';

export interface HeldDeployment {
  version: VersionMeta;
  links: Map<string, PinnableLink>;
  /** Absent after a restart: nothing to re-attach from without loading the package again. */
  collection?: Collection;
}

export function linkPinNames(dir: string): string[] {
  const links = join(dir, 'links');
  return existsSync(links) ? readdirSync(links) : [];
}

/**
 * Opens every pinned link of a deployment directory; a pin that is no link is logged and left out. A legacy
 * attachment (netlink XDP, BPF_PROG_ATTACH) pins its program, which says nothing of its hook: `targets` (the
 * record's) say where to look for it.
 */
export function openPinnedLinks(
  id: string,
  dir: string,
  logger: Logger,
  targets: Record<string, AttachTarget> = {},
): Map<string, PinnableLink> {
  const out = new Map<string, PinnableLink>();
  for (const name of linkPinNames(dir)) {
    try {
      out.set(name, openPinnedAttachment(join(dir, 'links', name), targets[name]));
    } catch (err) {
      logger.warn('pinned link unreadable', { id, name, error: errorMessage(err) });
    }
  }
  return out;
}

/** The program id each link runs (-1 when the kernel cannot say), by name. */
export function programIdsOf(links: ReadonlyMap<string, PinnableLink>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, link] of links) {
    try {
      out.set(name, link.info().programId);
    } catch {
      out.set(name, -1);
    }
  }
  return out;
}

/** Every link out of the kernel (detached where the type can, unpinned, closed), whatever fails on the way. */
export function removeLinks(id: string, links: Iterable<[string, PinnableLink]>, logger: Logger): void {
  for (const [name, link] of links) {
    try {
      link.remove();
    } catch (err) {
      logger.warn('link removed with an error', { id, name, error: errorMessage(err) });
    }
  }
}
