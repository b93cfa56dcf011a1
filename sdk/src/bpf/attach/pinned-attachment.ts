// After a restart: a pin is a bpf_link, or (legacy attachments) our program, found on its hook by id.
import { readlinkSync } from 'node:fs';
import { BpfError } from '../../errors.js';
import { closeFd, errnoName } from '../internal/fd.js';
import { errno, libbpf } from '../internal/libbpf.js';
import { FdLink, type PinnableLink } from '../link.js';
import { adoptCgroupLegacy } from './legacy-cgroup.js';
import { adoptXdpLegacy } from './legacy-xdp.js';
import type { AttachTarget } from './target.js';

/**
 * Opens what `path` pins: a link as it is; a program as the legacy attachment on `target` (the record's: a
 * program pin says nothing of its hook). Anything else, or a program pin without a target, is refused.
 */
export function openPinnedAttachment(path: string, target?: AttachTarget): PinnableLink {
  const fd = libbpf.objGet(path);
  if (fd < 0) {
    const e = errno();
    throw new BpfError(`PIN_${errnoName(e)}`, `open pinned link ${path}: ${errnoName(e)}`);
  }
  let kind: string;
  try {
    kind = readlinkSync(`/proc/self/fd/${fd}`);
  } catch (err) {
    closeFd(fd);
    throw err;
  }
  // The kernel names a link fd bpf-link when it comes from a pin and bpf_link when made by BPF_LINK_CREATE.
  if (kind === 'anon_inode:bpf-link' || kind === 'anon_inode:bpf_link')
    return new FdLink(path, fd, null, path);
  if (kind === 'anon_inode:bpf-prog' && target?.kind === 'xdp') {
    return adoptXdpLegacy(path, fd, target.interface, target.mode);
  }
  if (kind === 'anon_inode:bpf-prog' && target?.kind === 'cgroup')
    return adoptCgroupLegacy(target.path, path, fd);
  closeFd(fd);
  throw new BpfError(
    'PIN_NOT_A_LINK',
    `open pinned link ${path}: it pins ${kind.replace('anon_inode:', '')}` +
      `${target ? ` and a ${target.kind} target has no legacy attachment` : ' and no target says where it is attached'}`,
  );
}
