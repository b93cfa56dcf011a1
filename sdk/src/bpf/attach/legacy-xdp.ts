// XDP through netlink, for kernels without XDP links (< 5.9): attach only onto an empty hook, replace atomically.
import { BpfError, NotSupportedError } from '../../errors.js';
import { closeFd, errnoName } from '../internal/fd.js';
import { xdpAttach, xdpDetach, xdpQuery } from '../internal/libbpf.js';
import type { LinkInfo, ProgramRef } from '../link.js';
import { dupProgramFd, type HookView, LegacyLink, programIdOf } from './legacy-link.js';
import { ifindexOf, type XdpMode } from './target.js';

const XDP_FLAGS_UPDATE_IF_NOEXIST = 1 << 0;
const SKB = 1 << 1;
const DRV = 1 << 2;
const FLAGS: Record<XdpMode, number> = { auto: 0, generic: SKB, driver: DRV };
const ATTACHED_DRV = 1;
const ATTACHED_SKB = 2;

export class LegacyXdpLink extends LegacyLink {
  protected readonly type = 'xdp';
  readonly ifindex: number;
  /** The mode the program landed in (driver or generic): detach and replace must name it. */
  readonly #mode: number;

  constructor(description: string, ownFd: number, ifindex: number, mode: number, pinnedAt?: string) {
    super(description, ownFd, pinnedAt);
    this.ifindex = ifindex;
    this.#mode = mode;
  }

  protected observe(): HookView {
    if (this.ifindex === 0) return { attached: false, programId: 0 };
    const q = xdpQuery(this.ifindex);
    const id = q.rc < 0 ? 0 : this.#mode === SKB ? q.skbProgId : q.drvProgId;
    return { attached: id !== 0, programId: id };
  }

  protected location(attached: boolean): Partial<LinkInfo> {
    return { ifindex: attached ? this.ifindex : 0 };
  }

  protected swap(newFd: number, oldFd: number): number {
    return xdpAttach(this.ifindex, newFd, this.#mode, oldFd);
  }

  protected unhook(ownFd: number): number {
    return xdpDetach(this.ifindex, this.#mode, ownFd);
  }
}

export async function attachXdpLegacy(
  program: ProgramRef,
  iface: string | number,
  mode: XdpMode = 'auto',
): Promise<LegacyXdpLink> {
  const ifindex = ifindexOf(iface);
  const what = `xdp ${program.name} on ${iface} (${mode}, netlink)`;
  // Onto an empty hook only, like an XDP link: another program there is not ours to replace.
  const rc = xdpAttach(ifindex, program.fd, XDP_FLAGS_UPDATE_IF_NOEXIST | FLAGS[mode]);
  if (-rc === 16 || -rc === 17) {
    throw new BpfError(
      'XDP_BUSY',
      `attach ${what}: ${errnoName(rc)}: another XDP program is attached to ${iface}`,
    );
  }
  if (-rc === 95 || (-rc === 22 && mode === 'driver')) {
    throw new NotSupportedError(
      'XDP_MODE',
      `attach ${what}: ${errnoName(rc)}: the driver has no native XDP; try generic`,
    );
  }
  if (rc < 0) throw new BpfError(`ATTACH_${errnoName(rc)}`, `attach ${what}: ${errnoName(rc)}`);
  const q = xdpQuery(ifindex);
  const landed = q.skbProgId === programIdOf(program.fd) ? SKB : DRV;
  let own = -1;
  try {
    own = dupProgramFd(program.fd, `attach ${what}`);
    return new LegacyXdpLink(what, own, ifindex, landed);
  } catch (err) {
    // Nothing holds the attachment but the hook: it must not stay behind a failed attach.
    closeFd(own);
    xdpDetach(ifindex, landed, program.fd);
    throw err;
  }
}

/** Our pinned program (`ownFd`, taken over) on `iface` after a restart, in whichever mode the hook shows it. */
export function adoptXdpLegacy(
  path: string,
  ownFd: number,
  iface: string | number,
  mode: XdpMode = 'auto',
): LegacyXdpLink {
  let ifindex = 0;
  try {
    ifindex = ifindexOf(iface);
  } catch {
    // The interface is gone: the attachment went with it; the kernel check waits for it to come back.
  }
  try {
    const id = programIdOf(ownFd);
    const q = ifindex ? xdpQuery(ifindex) : undefined;
    let landed = FLAGS[mode] || DRV;
    if (q?.skbProgId === id || (q?.drvProgId !== id && q?.attachMode === ATTACHED_SKB)) landed = SKB;
    else if (q?.drvProgId === id || q?.attachMode === ATTACHED_DRV) landed = DRV;
    return new LegacyXdpLink(`xdp on ${iface} (netlink) from ${path}`, ownFd, ifindex, landed, path);
  } catch (err) {
    closeFd(ownFd);
    throw err;
  }
}
