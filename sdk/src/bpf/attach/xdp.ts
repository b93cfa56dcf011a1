// XDP through a kernel link (pinnable, updatable), in driver, generic or automatic mode; netlink where the kernel has no XDP links.
import { BpfError, NotSupportedError } from '../../errors.js';
import { errnoName } from '../internal/fd.js';
import { linkCreate } from '../internal/libbpf.js';
import { attachForm } from '../internal/link-support.js';
import { FdLink, type ProgramRef } from '../link.js';
import { attachXdpLegacy, type LegacyXdpLink } from './legacy-xdp.js';
import { ifindexOf, type XdpMode } from './target.js';

const BPF_XDP = 37;
const FLAGS: Record<XdpMode, number> = { auto: 0, generic: 1 << 1, driver: 1 << 2 };

export async function attachXdp(
  program: ProgramRef,
  iface: string | number,
  mode: XdpMode = 'auto',
): Promise<FdLink | LegacyXdpLink> {
  if ((await attachForm('xdp')) === 'legacy') return attachXdpLegacy(program, iface, mode);
  const ifindex = ifindexOf(iface);
  const what = `xdp ${program.name} on ${iface} (${mode})`;
  const fd = await linkCreate(program.fd, ifindex, BPF_XDP, { flags: FLAGS[mode] });
  if (fd >= 0) return new FdLink(what, fd, null);
  if (-fd === 16) {
    throw new BpfError('XDP_BUSY', `attach ${what}: EBUSY: another XDP program is attached to ${iface}`);
  }
  if (-fd === 95 || (-fd === 22 && mode === 'driver')) {
    throw new NotSupportedError(
      'XDP_MODE',
      `attach ${what}: ${errnoName(fd)}: the driver has no native XDP; try generic`,
    );
  }
  throw new BpfError(`ATTACH_${errnoName(fd)}`, `attach ${what}: ${errnoName(fd)}`);
}
