// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Counts bytes and packets in and out per cgroup (per app) at the cgroup_skb hooks; never drops. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "app-traffic.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Count the ancestor at this cgroup level instead of the packet's own cgroup; 0 counts the own cgroup. */
const volatile __u32 cgroup_level = 0;

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64);
  __type(value, struct app_counters);
} app_traffic SEC(".maps");

static __always_inline struct app_counters *counters_of(struct __sk_buff *skb)
{
  __u64 id = cgroup_level ? bpf_skb_ancestor_cgroup_id(skb, cgroup_level) : bpf_skb_cgroup_id(skb);
  struct app_counters *c, zero = {};

  c = bpf_map_lookup_elem(&app_traffic, &id);
  if (c)
    return c;
  /* First packet of this cgroup: insert, and look up again to count into the per-CPU slot. */
  bpf_map_update_elem(&app_traffic, &id, &zero, BPF_NOEXIST);
  return bpf_map_lookup_elem(&app_traffic, &id);
}

SEC("cgroup_skb/ingress")
int count_ingress(struct __sk_buff *skb)
{
  struct app_counters *c = counters_of(skb);

  if (c) {
    c->rx_bytes += skb->len;
    c->rx_packets++;
  }
  return 1;
}

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
  struct app_counters *c = counters_of(skb);

  if (c) {
    c->tx_bytes += skb->len;
    c->tx_packets++;
  }
  return 1;
}
