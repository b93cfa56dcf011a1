// SPDX-License-Identifier: GPL-2.0
/* xdp-tutorial style: three alternative XDP programs in one object; a deployment picks one of them. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* Slot 0 counts packets seen by whichever alternative runs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} h1c_seen SEC(".maps");

static __always_inline void count(void)
{
	__u32 key = 0;
	__u64 *slot = bpf_map_lookup_elem(&h1c_seen, &key);

	if (slot)
		__sync_fetch_and_add(slot, 1);
}

SEC("xdp")
int h1c_xdp_pass(struct xdp_md *ctx)
{
	count();
	return XDP_PASS;
}

SEC("xdp")
int h1c_xdp_drop(struct xdp_md *ctx)
{
	count();
	return XDP_DROP;
}

SEC("xdp")
int h1c_xdp_abort(struct xdp_md *ctx)
{
	count();
	return XDP_ABORTED;
}
