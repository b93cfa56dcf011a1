// SPDX-License-Identifier: GPL-2.0
/* The other baseline of the veth throughput run: an XDP program that drops everything. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int xdp_drop(struct xdp_md *ctx)
{
  return XDP_DROP;
}
