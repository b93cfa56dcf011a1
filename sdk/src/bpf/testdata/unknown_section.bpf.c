// SPDX-License-Identifier: GPL-2.0
/* An XDP program beside one whose SEC() name libbpf does not know: the second can never be loaded. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int h1c_known(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp_bogus/h1c")
int h1c_unknown_sec(struct xdp_md *ctx)
{
	return XDP_PASS;
}
