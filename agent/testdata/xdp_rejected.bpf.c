// SPDX-License-Identifier: GPL-2.0
/* The same maps as xdp_count, but a program the verifier refuses (reads past the packet). Agent test program. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

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
	/* No bounds check: the verifier must reject this load. */
	__u8 *data = (void *)(long)ctx->data;
	return data[64] == 1 ? XDP_DROP : XDP_PASS;
}
