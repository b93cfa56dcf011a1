// SPDX-License-Identifier: GPL-2.0
/* Counts ICMP echo requests arriving on an interface; `version` tells which build counted. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "counters.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 version = 1;
const volatile __u32 verdict = XDP_PASS;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} percpu_counts SEC(".maps");

SEC("xdp")
int count_pings(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct icmphdr *icmp;
	__u32 key = 0;
	__u64 *slot;

	/* Only IPv4 ICMP echo requests count. */
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_ICMP_)
		return XDP_PASS;
	icmp = (void *)ip + ip->ihl * 4;
	if ((void *)(icmp + 1) > data_end || icmp->type != ICMP_ECHO_)
		return XDP_PASS;

	/* Slot 0 counts every request, slot 1 remembers the last version that counted. */
	slot = bpf_map_lookup_elem(&counts, &key);
	if (slot)
		__sync_fetch_and_add(slot, 1);
	key = 1;
	slot = bpf_map_lookup_elem(&counts, &key);
	if (slot)
		*slot = version;
	key = 0;
	slot = bpf_map_lookup_elem(&percpu_counts, &key);
	if (slot)
		*slot += 1;
	return verdict;
}
