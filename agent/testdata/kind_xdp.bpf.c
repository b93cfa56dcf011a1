// SPDX-License-Identifier: GPL-2.0
/* Passes every packet (XDP). Loader removal and drift test program. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int kind_xdp(struct xdp_md *ctx)
{
	return 2;
}
