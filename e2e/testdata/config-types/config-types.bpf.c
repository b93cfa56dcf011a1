// SPDX-License-Identifier: GPL-2.0
/* One `const volatile` of every manifest config type, each read by an XDP program that passes every packet. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* Zero here and non-zero in the manifest: the values in .rodata can only come from the agent. */
const volatile __u8 cfg_u8 = 0;
const volatile __u16 cfg_u16 = 0;
const volatile __u32 cfg_u32 = 0;
const volatile __u64 cfg_u64 = 0;
const volatile __s8 cfg_s8 = 0;
const volatile __s16 cfg_s16 = 0;
const volatile __s32 cfg_s32 = 0;
const volatile __s64 cfg_s64 = 0;
const volatile bool cfg_bool = false;
const volatile __be32 cfg_ipv4 = 0;
const volatile __u8 cfg_ipv6[16] = {};
const volatile __u8 cfg_mac[6] = {};
const volatile char cfg_bytes[8] = {};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

SEC("xdp")
int config_types(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *sum = bpf_map_lookup_elem(&seen, &key);

	/* Every variable is read, so none is dropped as unused. */
	if (sum)
		*sum = cfg_u8 + cfg_u16 + cfg_u32 + cfg_u64 + cfg_s8 + cfg_s16 + cfg_s32 + cfg_s64 + cfg_bool +
		       cfg_ipv4 + cfg_ipv6[15] + cfg_mac[5] + cfg_bytes[7];
	return XDP_PASS;
}
