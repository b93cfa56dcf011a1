// SPDX-License-Identifier: GPL-2.0
/* Counts a cgroup's traffic: egress ICMP packets, connect4 calls and sockops events. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "counters.h"

char LICENSE[] SEC("license") = "GPL";

/* Slots: 0 egress ICMP, 1 ingress packets, 2 connect4, 3 connect6, 4 sockops active established. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} cg_counts SEC(".maps");

static __always_inline void bump(__u32 key)
{
	__u64 *slot = bpf_map_lookup_elem(&cg_counts, &key);

	if (slot)
		__sync_fetch_and_add(slot, 1);
}

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
	/* cgroup_skb sees the IP header first; count ICMP only. */
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		__u8 proto = 0;

		if (bpf_skb_load_bytes(skb, 9, &proto, 1) == 0 && proto == IPPROTO_ICMP_)
			bump(0);
	}
	return 1;
}

SEC("cgroup_skb/ingress")
int count_ingress(struct __sk_buff *skb)
{
	bump(1);
	return 1;
}

SEC("cgroup/connect4")
int count_connect4(struct bpf_sock_addr *ctx)
{
	bump(2);
	return 1;
}

SEC("cgroup/connect6")
int count_connect6(struct bpf_sock_addr *ctx)
{
	bump(3);
	return 1;
}

SEC("sockops")
int count_sockops(struct bpf_sock_ops *ops)
{
	/* Only the established callback of an active open counts. */
	if (ops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB)
		bump(4);
	return 1;
}
