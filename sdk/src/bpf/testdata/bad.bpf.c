// SPDX-License-Identifier: GPL-2.0
/* Reads a packet without a bounds check: the verifier must refuse it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int unchecked_read(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;

	/* No `data + 4 > data_end` check before the load. */
	return *(__u32 *)data == 0 ? XDP_DROP : XDP_PASS;
}
