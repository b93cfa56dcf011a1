// SPDX-License-Identifier: GPL-2.0
/* Test fixture: loss on purpose, drops every nth packet of one IP protocol at a tcx hook. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 nth = 7;
const volatile __u8 protocol = 253;

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u64);
} seen SEC(".maps");

SEC("tcx/egress")
int drop_every_nth(struct __sk_buff *skb)
{
  __u32 zero = 0, one = 1;
  __u64 *count, *dropped;
  __u8 proto;

  if (skb->protocol != bpf_htons(0x0800) || bpf_skb_load_bytes(skb, 14 + 9, &proto, 1) || proto != protocol)
    return TCX_NEXT;
  count = bpf_map_lookup_elem(&seen, &zero);
  dropped = bpf_map_lookup_elem(&seen, &one);
  if (!count || !dropped)
    return TCX_NEXT;
  if ((__sync_fetch_and_add(count, 1) + 1) % nth)
    return TCX_NEXT;
  __sync_fetch_and_add(dropped, 1);
  return TCX_DROP;
}
