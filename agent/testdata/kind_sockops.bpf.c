// SPDX-License-Identifier: GPL-2.0
/* Sees every TCP socket event (sockops). Loader removal and drift test program. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("sockops")
int kind_sockops(struct bpf_sock_ops *ctx)
{
	return 1;
}
