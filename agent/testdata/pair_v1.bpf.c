// SPDX-License-Identifier: GPL-2.0
/* Version 1 of a two-version test package: one XDP program. Loader upgrade and hand-over tests. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int pair_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}
