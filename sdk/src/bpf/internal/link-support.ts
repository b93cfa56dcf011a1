// Whether this kernel attaches XDP and cgroup programs as bpf_links (5.9+, 5.7+) or only the older way, probed once.
import { BpfError } from '../../errors.js';
import { closeFd } from './fd.js';
import { returnValue } from './feature-probes.js';
import { libbpf, linkCreate, loadProbeProgram } from './libbpf.js';

/** `link`: BPF_LINK_CREATE; `legacy`: netlink for XDP, BPF_PROG_ATTACH with BPF_F_ALLOW_MULTI for cgroups. */
export type AttachForm = 'link' | 'legacy';
export type LegacyCapableHook = 'xdp' | 'cgroup';

/** Forces one form for every hook: for a kernel whose probe misleads, and to run the legacy path on a new kernel. */
export const ATTACH_MODE_ENV = 'BPFLEET_ATTACH_MODE';

const PROG_XDP = 6;
const PROG_CGROUP_SKB = 8;
const BPF_CGROUP_INET_INGRESS = 0;
const BPF_XDP = 37;
const XDP_FLAGS_SKB_MODE = 1 << 1;
const XDP_PASS = 2;
const LOOPBACK = 1;
const EBUSY = 16;
const EBADF = 9;

const probed = new Map<LegacyCapableHook, Promise<AttachForm>>();

/** The form attach uses for `hook`: the override when set, else the probe's answer (cached per process). */
export async function attachForm(hook: LegacyCapableHook): Promise<AttachForm> {
  const forced = forcedForm();
  if (forced) return forced;
  let answer = probed.get(hook);
  if (!answer) {
    answer = hook === 'xdp' ? probeXdpLink() : probeCgroupLink();
    probed.set(hook, answer);
  }
  return answer;
}

function forcedForm(): AttachForm | undefined {
  const value = process.env[ATTACH_MODE_ENV];
  if (value === undefined || value === '' || value === 'auto') return undefined;
  if (value === 'link' || value === 'legacy') return value;
  throw new BpfError(
    'ATTACH_MODE_INVALID',
    `${ATTACH_MODE_ENV}=${value}: not an attach mode; use auto (probe the kernel), link or legacy`,
  );
}

/**
 * An XDP link on loopback in generic mode, running XDP_PASS, closed at once (the kernel's own selftests use lo
 * the same way): with an unknown target the kernel answers EINVAL whether or not it has XDP links, so only a
 * real interface tells. EBUSY means lo already has a program, which only a kernel with XDP links checks here.
 */
async function probeXdpLink(): Promise<AttachForm> {
  const prog = loadProbeProgram(PROG_XDP, returnValue(XDP_PASS));
  if (prog.fd < 0) return 'legacy';
  try {
    const fd = await linkCreate(prog.fd, LOOPBACK, BPF_XDP, { flags: XDP_FLAGS_SKB_MODE });
    if (fd >= 0) {
      libbpf.linkDetach(fd);
      closeFd(fd);
      return 'link';
    }
    return -fd === EBUSY ? 'link' : 'legacy';
  } finally {
    closeFd(prog.fd);
  }
}

/** A cgroup link on a bad fd (as cilium/ebpf's haveBPFLink): EBADF when the kernel has cgroup links, else EINVAL. */
async function probeCgroupLink(): Promise<AttachForm> {
  const prog = loadProbeProgram(PROG_CGROUP_SKB, returnValue(1), {
    expectedAttachType: BPF_CGROUP_INET_INGRESS,
  });
  if (prog.fd < 0) return 'legacy';
  try {
    const fd = await linkCreate(prog.fd, -1, BPF_CGROUP_INET_INGRESS);
    closeFd(fd);
    return fd >= 0 || -fd === EBADF ? 'link' : 'legacy';
  } finally {
    closeFd(prog.fd);
  }
}
