// SPDX-License-Identifier: GPL-2.0
/* Reads a packet without a bounds check: the verifier must refuse it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* Pinned by name during load: a failed load must leave no pin behind. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bad_state SEC(".maps");

SEC("xdp")
int unchecked_read(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	__u32 key = 0;

	bpf_map_lookup_elem(&bad_state, &key);

	/* No `data + 4 > data_end` check before the load. */
	return *(__u32 *)data == 0 ? XDP_DROP : XDP_PASS;
}
