// SPDX-License-Identifier: GPL-2.0
/* The floor of per-key counting: one per-CPU hash lookup of a fixed key and two adds, nothing else. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct hash_count_value {
  __u64 bytes;
  __u64 packets;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64);
  __type(value, struct hash_count_value);
} counts SEC(".maps");

SEC("cgroup_skb/ingress")
int hash_count(struct __sk_buff *skb)
{
  __u64 key = 1;
  struct hash_count_value *v = bpf_map_lookup_elem(&counts, &key);

  if (v) {
    v->bytes += skb->len;
    v->packets++;
  }
  return 1;
}
