// SPDX-License-Identifier: GPL-2.0
/* Allows every connect() (cgroup sock_addr). Loader removal and drift test program. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("cgroup/connect4")
int kind_connect4(struct bpf_sock_addr *ctx)
{
	return 1;
}
