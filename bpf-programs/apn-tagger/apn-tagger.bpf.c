// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Marks the egress traffic of selected apps (cgroups) with their APN ID (DSCP, IPv6 flow label, APN6 option);
 * apn_read is the network edge's side: counts the APN IDs it sees, and can strip the option. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "apn-tagger.h"
#include "apn6.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Look the app up by its ancestor cgroup at this level; 0 uses the socket's own cgroup. */
const volatile __u32 cgroup_level = 0;
/* Write the APN ID into the IPv6 flow label (else only DSCP is set). */
const volatile bool set_flow_label = true;
/* The APN option's Option Type. The draft leaves it to IANA (TBD); 0x1e is RFC 4727's experimental type with
 * action 00 (skip if unknown) and change bit 0, so routers that do not know it forward the packet. */
const volatile __u8 apn_option_type = 0x1e;
/* Carry the APN ID in an APN6 option on IPv6 too: APN6_NONE, APN6_HOP_BY_HOP or APN6_DEST_OPTIONS. */
const volatile __u8 apn6_carrier = APN6_NONE;
/* apn_read: remove an extension header that carries only the APN option before the packet goes on. */
const volatile bool strip_apn6 = false;

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

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, APN6_EVENT_COUNT);
  __type(key, __u32);
  __type(value, __u64);
} apn6_events SEC(".maps");

/* apn_read: packets and bytes seen per APN ID. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, struct apn_count);
} apn_seen SEC(".maps");

static __always_inline void count(void *map, __u32 apn_id, __u64 bytes)
{
  struct apn_count *c, zero = {};

  c = bpf_map_lookup_elem(map, &apn_id);
  if (!c) {
    bpf_map_update_elem(map, &apn_id, &zero, BPF_NOEXIST);
    c = bpf_map_lookup_elem(map, &apn_id);
    if (!c)
      return;
  }
  c->packets++;
  c->bytes += bytes;
}

static __always_inline void event(__u32 what)
{
  __u64 *n = bpf_map_lookup_elem(&apn6_events, &what);

  if (n)
    (*n)++;
}

/* Inserts the APN header right after the IPv6 header as a Hop-by-Hop or Destination Options header.
 * The upper-layer checksum needs nothing: its pseudo-header carries the upper-layer length, not the
 * IPv6 payload length, and extension headers are outside it (RFC 8200 8.1). */
static __always_inline void insert_apn6(struct __sk_buff *skb, const struct apn_tag *tag)
{
  __u32 ip = sizeof(struct ethhdr), mtu_len = 0;
  struct apn6_ext ext = {};
  struct ipv6hdr hdr;

  if (bpf_skb_load_bytes(skb, ip, &hdr, sizeof(hdr)))
    return;
  /* Only a packet whose IPv6 header is followed directly by its transport gets the header: one that
   * already has extension headers is left untagged and counted (no merging into a foreign HBH). */
  if (hdr.nexthdr != IPPROTO_UDP && hdr.nexthdr != IPPROTO_TCP && hdr.nexthdr != IPPROTO_ICMPV6) {
    event(APN6_SKIP_EXT_HEADER);
    return;
  }
  if (skb->gso_size) {
    /* TCP segments shrink their MSS by 16 (adjust_room does it); UDP GSO would split datagrams elsewhere. */
    if (hdr.nexthdr == IPPROTO_UDP) {
      event(APN6_SKIP_UDP_GSO);
      return;
    }
  } else if (bpf_check_mtu(skb, 0, &mtu_len, sizeof(ext), 0)) {
    event(APN6_SKIP_MTU);
    return;
  }
  ext.nexthdr = hdr.nexthdr;
  ext.hdrlen = sizeof(ext) / 8 - 1;
  ext.opt_type = apn_option_type;
  ext.opt_len = APN6_OPT_DATA_LEN;
  ext.id_type = APN6_ID_TYPE_32;
  ext.apn_id = bpf_htonl(tag->apn_id);
  ext.pad_type = IPV6_OPT_PADN;
  ext.pad_len = sizeof(ext.pad);
  hdr.nexthdr = apn6_carrier == APN6_DEST_OPTIONS ? IPPROTO_DSTOPTS : IPPROTO_HOPOPTS;
  hdr.payload_len = bpf_htons(bpf_ntohs(hdr.payload_len) + sizeof(ext));
  if (bpf_skb_adjust_room(skb, sizeof(ext), BPF_ADJ_ROOM_NET, 0) ||
      bpf_skb_store_bytes(skb, ip + offsetof(struct ipv6hdr, payload_len), &hdr.payload_len, 3, 0) ||
      bpf_skb_store_bytes(skb, ip + sizeof(hdr), &ext, sizeof(ext), 0)) {
    event(APN6_SKIP_ERROR);
    return;
  }
  event(APN6_INSERTED);
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
    if (apn6_carrier == APN6_HOP_BY_HOP || apn6_carrier == APN6_DEST_OPTIONS)
      insert_apn6(skb, tag);
  } else {
    return TCX_NEXT;
  }
  count(&tagged, tag->apn_id, skb->len);
  return TCX_NEXT;
}

SEC("tcx/ingress")
int apn_read(struct __sk_buff *skb)
{
  __u32 ip = sizeof(struct ethhdr), off, len, pos, apn_id = 0;
  __u8 opt[2], data[APN6_OPT_DATA_LEN];
  struct apn6_ext ext;
  struct ipv6hdr hdr;
  int i;

  if (skb->protocol != bpf_htons(ETH_P_IPV6) || bpf_skb_load_bytes(skb, ip, &hdr, sizeof(hdr)))
    return TCX_NEXT;
  /* Hop-by-Hop must be first; a Destination Options header with the APN option is first too when it is
   * the only extension header. Deeper chains are not walked. */
  if (hdr.nexthdr != IPPROTO_HOPOPTS && hdr.nexthdr != IPPROTO_DSTOPTS)
    return TCX_NEXT;
  off = ip + sizeof(hdr);
  if (bpf_skb_load_bytes(skb, off, opt, sizeof(opt)))
    return TCX_NEXT;
  /* Offsets are kept relative to the header and masked, so the verifier sees small bounded ranges. */
  len = (opt[1] + 1) * 8;
  pos = 2;
  /* Walk the TLVs: Pad1 is one byte, every other option is type, length, data. */
  for (i = 0; i < APN6_MAX_OPTIONS; i++) {
    pos &= 0x7ff;
    if (pos + 2 > len || bpf_skb_load_bytes(skb, off + pos, opt, sizeof(opt)))
      return TCX_NEXT;
    if (opt[0] == apn_option_type)
      break;
    pos += opt[0] == IPV6_OPT_PAD1 ? 1 : 2 + opt[1];
  }
  if (i == APN6_MAX_OPTIONS || opt[1] < APN6_OPT_DATA_LEN || pos + 2 + opt[1] > len ||
      bpf_skb_load_bytes(skb, off + pos + 2, data, sizeof(data)) || data[0] != APN6_ID_TYPE_32)
    return TCX_NEXT;
  __builtin_memcpy(&apn_id, &data[4], sizeof(apn_id));
  apn_id = bpf_ntohl(apn_id);
  count(&apn_seen, apn_id, skb->len);
  event(APN6_SEEN);

  /* Strip only a header that is exactly what apn_tag inserts: nothing else of the sender's is lost. */
  if (!strip_apn6 || len != sizeof(ext) || pos != 2)
    return TCX_NEXT;
  if (bpf_skb_load_bytes(skb, off, &ext, sizeof(ext)))
    return TCX_NEXT;
  hdr.nexthdr = ext.nexthdr;
  hdr.payload_len = bpf_htons(bpf_ntohs(hdr.payload_len) - sizeof(ext));
  if (bpf_skb_store_bytes(skb, ip + offsetof(struct ipv6hdr, payload_len), &hdr.payload_len, 3, 0) ||
      bpf_skb_adjust_room(skb, -(__s32)sizeof(ext), BPF_ADJ_ROOM_NET, 0))
    return TCX_NEXT;
  event(APN6_STRIPPED);
  return TCX_NEXT;
}
