// libbpf's attach calls: links (auto, cgroup, BPF_LINK_CREATE, update), netlink XDP, BPF_PROG_ATTACH, tc.
import koffi from 'koffi';
import { asyncCall, fns } from './libbpf-bindings.js';
import { LAYOUT } from './libbpf-structs.js';
import type { LinkCreateOptions, LinkHandle, ProgramHandle, TcHook } from './libbpf-types.js';

export async function attachAuto(prog: ProgramHandle): Promise<{ link: LinkHandle | null; errno: number }> {
  const r = await asyncCall(fns().programAttach, prog);
  return { link: r.value, errno: r.value ? 0 : r.errno };
}

export async function attachCgroup(
  prog: ProgramHandle,
  cgroupFd: number,
): Promise<{ link: LinkHandle | null; errno: number }> {
  const r = await asyncCall(fns().programAttachCgroup, prog, cgroupFd);
  return { link: r.value, errno: r.value ? 0 : r.errno };
}

export async function linkCreate(
  progFd: number,
  targetFd: number,
  attachType: number,
  options: LinkCreateOptions = {},
): Promise<number> {
  const opts = { sz: LAYOUT.bpf_link_create_opts, flags: options.flags ?? 0, union_words: [0n, 0n, 0n, 0n] };
  return (await asyncCall(fns().linkCreate, progFd, targetFd, attachType, opts)).value;
}

/** Netlink XDP attach; `oldProgFd` > 0 makes it an atomic replace of exactly that program (XDP_FLAGS_REPLACE). */
export function xdpAttach(ifindex: number, progFd: number, flags: number, oldProgFd = 0): number {
  const opts = { sz: LAYOUT.bpf_xdp_attach_opts, old_prog_fd: oldProgFd };
  return fns().xdpAttach(ifindex, progFd, flags, opts);
}

export function xdpDetach(ifindex: number, flags: number, oldProgFd = 0): number {
  return fns().xdpDetach(ifindex, flags, { sz: LAYOUT.bpf_xdp_attach_opts, old_prog_fd: oldProgFd });
}

export interface XdpQuery {
  rc: number;
  progId: number;
  drvProgId: number;
  skbProgId: number;
  attachMode: number;
}

export function xdpQuery(ifindex: number): XdpQuery {
  const o = {
    sz: LAYOUT.bpf_xdp_query_opts,
    prog_id: 0,
    drv_prog_id: 0,
    hw_prog_id: 0,
    skb_prog_id: 0,
    attach_mode: 0,
  };
  const rc = fns().xdpQuery(ifindex, 0, o);
  return {
    rc,
    progId: o.prog_id,
    drvProgId: o.drv_prog_id,
    skbProgId: o.skb_prog_id,
    attachMode: o.attach_mode,
  };
}

/** BPF_PROG_ATTACH; `replaceProgFd` > 0 (with BPF_F_REPLACE in flags) swaps exactly that program. */
export function progAttach(
  progFd: number,
  targetFd: number,
  type: number,
  flags: number,
  replaceProgFd = 0,
): number {
  const opts = { sz: LAYOUT.bpf_prog_attach_opts, flags, replace_prog_fd: replaceProgFd };
  return fns().progAttachOpts(progFd, targetFd, type, opts);
}

/** The program ids attached at a cgroup hook (at most 64 read), or the negative errno. */
export function progQuery(targetFd: number, type: number): { rc: number; ids: number[] } {
  const ids = new Uint32Array(64);
  const cnt = [ids.length];
  const rc = fns().progQuery(targetFd, type, 0, [0], ids, cnt);
  return { rc, ids: rc < 0 ? [] : [...ids.subarray(0, cnt[0] ?? 0)] };
}

const F_DUPFD_CLOEXEC = 1030;

/** A second fd of the same kernel object (close-on-exec), or -errno: needs no privilege, unlike a lookup by id. */
export function dupFd(fd: number): number {
  const r = fns().fcntl(fd, F_DUPFD_CLOEXEC, 0);
  return r < 0 ? -koffi.errno() : r;
}

export function linkUpdate(linkFd: number, progFd: number): number {
  return fns().linkUpdate(linkFd, progFd, { sz: LAYOUT.bpf_link_update_opts, flags: 0, old_prog_fd: 0 });
}

function tcHook(hook: TcHook): object {
  return { sz: LAYOUT.bpf_tc_hook, ifindex: hook.ifindex, attach_point: hook.attachPoint, parent: 0 };
}

export function tcHookCreate(hook: TcHook): number {
  return fns().tcHookCreate(tcHook(hook));
}

export function tcHookDestroy(hook: TcHook): number {
  return fns().tcHookDestroy(tcHook(hook));
}

export async function tcAttach(
  hook: TcHook,
  progFd: number,
): Promise<{ rc: number; handle: number; priority: number }> {
  const opts = { sz: LAYOUT.bpf_tc_opts, prog_fd: progFd, flags: 0, prog_id: 0, handle: 0, priority: 0 };
  const rc = (await asyncCall(fns().tcAttach, tcHook(hook), opts)).value;
  return { rc, handle: opts.handle, priority: opts.priority };
}

export function tcDetach(hook: TcHook, handle: number, priority: number): number {
  const opts = { sz: LAYOUT.bpf_tc_opts, prog_fd: 0, flags: 0, prog_id: 0, handle, priority };
  return fns().tcDetach(tcHook(hook), opts);
}
