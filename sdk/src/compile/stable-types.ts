// Types whose layout no kernel changes: what a package's minimized BTF may describe and still fit every kernel.

/**
 * BPF UAPI (include/uapi/linux/bpf.h): program contexts and helper arguments. Their layout is ABI; for contexts
 * the verifier also rewrites each field access to the running kernel's own offsets.
 */
const BPF_UAPI = [
  '__sk_buff',
  'xdp_md',
  'bpf_sock',
  'bpf_sock_addr',
  'bpf_sock_ops',
  'bpf_tcp_sock',
  'bpf_xdp_sock',
  'sk_msg_md',
  'sk_reuseport_md',
  'bpf_sk_lookup',
  'bpf_sockopt',
  'bpf_sysctl',
  'bpf_cgroup_dev_ctx',
  'bpf_flow_keys',
  'bpf_sock_tuple',
  'bpf_tunnel_key',
  'bpf_xfrm_state',
  'bpf_fib_lookup',
  'bpf_spin_lock',
  'bpf_timer',
  'xdp_action',
  'sk_action',
];

/** Packet headers: their layout is the wire format, the same for every kernel and arch. */
const WIRE_FORMATS = [
  'ethhdr',
  'vlan_hdr',
  'arphdr',
  'iphdr',
  'ipv6hdr',
  'in_addr',
  'in6_addr',
  'ipv6_opt_hdr',
  'ip_auth_hdr',
  'tcphdr',
  'udphdr',
  'icmphdr',
  'icmp6hdr',
  'sctphdr',
];

export const STABLE_TYPES: ReadonlySet<string> = new Set([...BPF_UAPI, ...WIRE_FORMATS]);

/**
 * Section prefixes of program types the kernel itself resolves against its own BTF (attach_btf_id): a package's
 * BTF cannot stand in for tp_btf, fentry/fexit, LSM, iterators, struct_ops or freplace.
 */
export const KERNEL_BTF_SECTIONS = [
  'tp_btf/',
  'fentry/',
  'fentry.s/',
  'fexit/',
  'fexit.s/',
  'fmod_ret/',
  'fmod_ret.s/',
  'lsm/',
  'lsm.s/',
  'lsm_cgroup/',
  'iter/',
  'iter.s/',
  'struct_ops',
  'freplace/',
];
