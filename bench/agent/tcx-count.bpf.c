// SPDX-License-Identifier: GPL-2.0
/* Counts packets at tcx ingress and hands them on (TCX_NEXT), so any number of copies stack on one interface. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("tcx/ingress")
int count_ingress(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *slot = bpf_map_lookup_elem(&counts, &key);

	if (slot)
		__sync_fetch_and_add(slot, 1);
	return TCX_NEXT;
}
