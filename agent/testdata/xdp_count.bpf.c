// SPDX-License-Identifier: GPL-2.0
/* Counts ICMP echo requests on an interface; `version` tells which build counted. Agent and end-to-end test program. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 version = 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int count_pings(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	__u32 key = 0;
	__u64 *slot;

	/* Only IPv4 ICMP counts. */
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(0x0800))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->protocol != 1)
		return XDP_PASS;
	/* Slot 0 counts packets, slot 1 holds the version that counted last. */
	slot = bpf_map_lookup_elem(&counts, &key);
	if (slot)
		__sync_fetch_and_add(slot, 1);
	key = 1;
	slot = bpf_map_lookup_elem(&counts, &key);
	if (slot)
		*slot = version;
	return XDP_PASS;
}
