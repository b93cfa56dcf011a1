// SPDX-License-Identifier: GPL-2.0
/* The baseline for cgroup_skb programs: allow and do nothing else. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("cgroup_skb/ingress")
int cgroup_skb_pass(struct __sk_buff *skb)
{
  return 1;
}
