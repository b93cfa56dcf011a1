// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Marks the egress traffic of selected apps (cgroups) with their APN ID: DSCP, and IPv6 flow label. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "apn-tagger.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Look the app up by its ancestor cgroup at this level; 0 uses the socket's own cgroup. */
const volatile __u32 cgroup_level = 0;
/* Write the APN ID into the IPv6 flow label (else only DSCP is set). */
const volatile bool set_flow_label = true;

/* Apps to tag: cgroup id → tag. Key 0 stands for packets without a local socket (forwarded). */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u64);
  __type(value, struct apn_tag);
} tagged_apps SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, struct apn_count);
} tagged SEC(".maps");

static __always_inline void count(__u32 apn_id, __u64 bytes)
{
  struct apn_count *c, zero = {};

  c = bpf_map_lookup_elem(&tagged, &apn_id);
  if (!c) {
    bpf_map_update_elem(&tagged, &apn_id, &zero, BPF_NOEXIST);
    c = bpf_map_lookup_elem(&tagged, &apn_id);
    if (!c)
      return;
  }
  c->packets++;
  c->bytes += bytes;
}

SEC("tcx/egress")
int apn_tag(struct __sk_buff *skb)
{
  __u64 app = cgroup_level ? bpf_skb_ancestor_cgroup_id(skb, cgroup_level) : bpf_skb_cgroup_id(skb);
  __u32 off = sizeof(struct ethhdr);
  struct apn_tag *tag;

  tag = bpf_map_lookup_elem(&tagged_apps, &app);
  if (!tag)
    return TCX_NEXT;

  if (skb->protocol == bpf_htons(ETH_P_IP)) {
    __be16 old, new;
    __u8 tos;

    /* DSCP is the upper 6 bits of the TOS byte; keep ECN, and patch the header checksum. */
    if (bpf_skb_load_bytes(skb, off, &old, sizeof(old)))
      return TCX_NEXT;
    tos = (tag->dscp << 2) | (bpf_ntohs(old) & 0x3);
    new = bpf_htons((bpf_ntohs(old) & 0xff00) | tos);
    if (new != old) {
      if (bpf_skb_store_bytes(skb, off, &new, sizeof(new), 0) ||
          bpf_l3_csum_replace(skb, off + offsetof(struct iphdr, check), old, new, sizeof(new)))
        return TCX_NEXT;
    }
  } else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
    __be32 old, new;
    __u32 word, tclass;

    /* Version (4 bits), traffic class (8: DSCP and ECN), flow label (20); no checksum covers them. */
    if (bpf_skb_load_bytes(skb, off, &old, sizeof(old)))
      return TCX_NEXT;
    word = bpf_ntohl(old);
    tclass = (tag->dscp << 2) | ((word >> 20) & 0x3);
    word = (word & 0xf00fffff) | (tclass << 20);
    if (set_flow_label)
      word = (word & ~APN_FLOW_LABEL_MASK) | (tag->apn_id & APN_FLOW_LABEL_MASK);
    new = bpf_htonl(word);
    if (bpf_skb_store_bytes(skb, off, &new, sizeof(new), 0))
      return TCX_NEXT;
  } else {
    return TCX_NEXT;
  }
  count(tag->apn_id, skb->len);
  return TCX_NEXT;
}
