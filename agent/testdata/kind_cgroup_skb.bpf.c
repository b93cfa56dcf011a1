// SPDX-License-Identifier: GPL-2.0
/* Allows every packet (cgroup_skb egress). Loader removal and drift test program. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("cgroup_skb/egress")
int kind_cgroup_skb(struct __sk_buff *ctx)
{
	return 1;
}
