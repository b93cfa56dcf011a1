// SPDX-License-Identifier: GPL-2.0
/* Version 2 of a two-version test package: the XDP program and a new tcx one. Loader upgrade and hand-over tests. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int pair_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tcx/ingress")
int pair_tcx(struct __sk_buff *ctx)
{
	return 0;
}
