// SPDX-License-Identifier: GPL-2.0
/* The XDP half of the truth suite's ping programs: counts ICMP on the wan interface, drops it when asked. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

/* Non-zero: ICMP is dropped (a firewall whose absence the peer's pings show). */
const volatile __u32 drop_icmp = 0;

/* Slot 0: ICMP seen by XDP; slot 1: packets seen by tcx (the v2 program). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline void count(__u32 key)
{
	__u64 *slot = bpf_map_lookup_elem(&counts, &key);

	if (slot)
		__sync_fetch_and_add(slot, 1);
}

SEC("xdp")
int h7t_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;

	/* Only IPv4 ICMP counts. */
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(0x0800))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->protocol != 1)
		return XDP_PASS;
	count(0);
	return drop_icmp ? XDP_DROP : XDP_PASS;
}
