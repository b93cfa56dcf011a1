// SPDX-License-Identifier: GPL-2.0
/* Counts ICMP packets leaving (or entering) an interface, for tcx and classic clsact alike. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "counters.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tc_counts SEC(".maps");

SEC("tc")
int count_icmp(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	__u32 key = 0;
	__u64 *slot;

	/* Only IPv4 ICMP counts; UNSPEC lets the next tcx program or TC filter run too. */
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_UNSPEC_;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_ICMP_)
		return TC_ACT_UNSPEC_;
	slot = bpf_map_lookup_elem(&tc_counts, &key);
	if (slot)
		__sync_fetch_and_add(slot, 1);
	return TC_ACT_UNSPEC_;
}
