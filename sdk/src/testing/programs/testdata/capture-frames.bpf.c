// SPDX-License-Identifier: GPL-2.0
/* Test fixture: keeps the first 128 bytes of the first 256 frames arriving at a tcx ingress hook. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define SLOTS 256
#define SNAP 128

struct frame {
  __u32 len;
  __u8 bytes[SNAP];
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, SLOTS);
  __type(key, __u32);
  __type(value, struct frame);
} frames SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} next_slot SEC(".maps");

SEC("tcx/ingress")
int capture(struct __sk_buff *skb)
{
  __u32 zero = 0, slot;
  __u64 *next;
  struct frame *f;
  __u64 len;

  next = bpf_map_lookup_elem(&next_slot, &zero);
  if (!next)
    return TCX_NEXT;
  slot = __sync_fetch_and_add(next, 1);
  f = bpf_map_lookup_elem(&frames, &slot);
  if (!f)
    return TCX_NEXT;
  len = skb->len;
  if (len > SNAP)
    len = SNAP;
  if (len > 0 && !bpf_skb_load_bytes(skb, 0, f->bytes, len))
    f->len = len;
  return TCX_NEXT;
}
