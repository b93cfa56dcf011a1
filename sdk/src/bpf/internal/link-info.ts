// struct bpf_link_info (uapi linux/bpf.h) decoded in one place: type, ids, and the target the link sits on.

// enum bpf_link_type values whose union member says where the link is attached.
const CGROUP = 3;
const XDP = 6;
const TCX = 11;
const NETKIT = 13;
/** type, id, prog_id, then the union at offset 16 (the struct is 8-byte aligned). */
const UNION = 16;
export const LINK_INFO_SIZE = 64;

export interface DecodedLinkInfo {
  type: number;
  id: number;
  programId: number;
  /** xdp, tcx, netkit: the interface; 0 once the kernel detached the link (interface gone, `bpf_link_detach`). */
  ifindex?: number;
  /** cgroup links: the cgroup id (its cgroup2 inode number); 0 once detached (cgroup removed). */
  cgroupId?: bigint;
  /** cgroup, tcx, netkit: the kernel's attach type. */
  attachType?: number;
}

export function decodeLinkInfo(info: Uint8Array): DecodedLinkInfo {
  const view = new DataView(info.buffer, info.byteOffset, info.byteLength);
  const out: DecodedLinkInfo = {
    type: view.getUint32(0, true),
    id: view.getUint32(4, true),
    programId: view.getUint32(8, true),
  };
  switch (out.type) {
    case XDP:
      out.ifindex = view.getUint32(UNION, true);
      break;
    case TCX:
    case NETKIT:
      out.ifindex = view.getUint32(UNION, true);
      out.attachType = view.getUint32(UNION + 4, true);
      break;
    case CGROUP:
      out.cgroupId = view.getBigUint64(UNION, true);
      out.attachType = view.getUint32(UNION + 8, true);
      break;
  }
  return out;
}
