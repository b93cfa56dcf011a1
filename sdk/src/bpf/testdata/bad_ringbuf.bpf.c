// SPDX-License-Identifier: GPL-2.0
/* A ring buffer the kernel refuses to create (zero bytes): the load error must say so. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 0);
} h1c_events SEC(".maps");

SEC("xdp")
int h1c_ringbuf_user(struct xdp_md *ctx)
{
	__u64 *e = bpf_ringbuf_reserve(&h1c_events, sizeof(*e), 0);

	if (e)
		bpf_ringbuf_discard(e, 0);
	return XDP_PASS;
}
