/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* int-telemetry over IPv6: the shim travels as an option of a Destination Options header after the IPv6 header. */
#ifndef INT6_H
#define INT6_H

/* IPv6 payload length, Next Header and hop limit: the one word of the header that stamping and stripping rewrite. */
#define INT6_LEN_OFF 4

/* The flow of an IPv6 packet whose transport header (UDP or TCP) starts at `l4`. */
static __always_inline void flow6_of(struct __sk_buff *skb, struct ipv6hdr *ip6, __u8 protocol, __u32 l4,
                                     struct int_flow6 *flow)
{
  __be16 ports[2] = {};

  flow->src = ip6->saddr;
  flow->dst = ip6->daddr;
  flow->protocol = protocol;
  if (!bpf_skb_load_bytes(skb, l4, ports, sizeof(ports))) {
    flow->src_port = bpf_ntohs(ports[0]);
    flow->dst_port = bpf_ntohs(ports[1]);
  }
}

/* Rewrites payload length and Next Header (the header has no checksum; UDP's and TCP's pseudo-header holds the
 * upper-layer length and protocol, which the extension header does not change). */
static __always_inline int set_len6(struct __sk_buff *skb, struct ipv6hdr *ip6, __u16 len, __u8 nexthdr, __u64 flags)
{
  __u8 word[4];

  ip6->payload_len = bpf_htons(len);
  ip6->nexthdr = nexthdr;
  __builtin_memcpy(word, (__u8 *)ip6 + INT6_LEN_OFF, sizeof(word));
  return bpf_skb_store_bytes(skb, sizeof(struct ethhdr) + INT6_LEN_OFF, word, sizeof(word), flags);
}

/* Source: UDP/TCP right behind the IPv6 header (no extension headers), to the matched port, not GSO. */
static __always_inline int stamp6(struct __sk_buff *skb)
{
  __u32 off = sizeof(struct ethhdr), mtu_len = 0;
  struct int_tx fresh = {}, *tx;
  struct int_flow6 flow = {};
  struct int6_ext ext = {};
  struct ipv6hdr ip6;

  if (!int6_option || bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)))
    return TCX_NEXT;
  if (ip6.nexthdr != IPPROTO_UDP && ip6.nexthdr != IPPROTO_TCP)
    return TCX_NEXT;
  flow6_of(skb, &ip6, ip6.nexthdr, off + sizeof(ip6), &flow);
  if (match_port && flow.dst_port != match_port)
    return TCX_NEXT;
  if (skb->gso_size) {
    bump(&int_stats, INT_SKIPPED);
    return TCX_NEXT;
  }
  /* Too big with 24 more bytes (bpf_skb_adjust_room no longer checks the MTU): it leaves as it is, counted. */
  if (bpf_check_mtu(skb, 0, &mtu_len, sizeof(ext), 0)) {
    bump(&int_stats, INT_SKIPPED_MTU);
    return TCX_NEXT;
  }

  tx = bpf_map_lookup_elem(&tx_flows6, &flow);
  if (!tx) {
    bpf_map_update_elem(&tx_flows6, &flow, &fresh, BPF_NOEXIST);
    tx = bpf_map_lookup_elem(&tx_flows6, &flow);
    if (!tx)
      return TCX_NEXT;
  }
  /* Room right after the IPv6 header: the transport header and payload, and their checksum, stay as they are. */
  if (bpf_skb_adjust_room(skb, sizeof(ext), BPF_ADJ_ROOM_NET, 0)) {
    bump(&int_stats, INT_SKIPPED);
    return TCX_NEXT;
  }
  ext.nexthdr = ip6.nexthdr;
  ext.hdrlen = sizeof(ext) / 8 - 1;
  ext.pad_type = IPV6_OPT_PADN;
  ext.pad_len = sizeof(ext.pad);
  ext.opt_type = int6_option;
  ext.opt_len = sizeof(ext.shim);
  ext.shim.next_protocol = ip6.nexthdr;
  ext.shim.version = INT_SHIM_VERSION;
  ext.shim.seq = bpf_htonl((__u32)__sync_fetch_and_add(&tx->next_seq, 1));
  ext.shim.sent_ns = bpf_cpu_to_be64(bpf_ktime_get_tai_ns());
  if (bpf_skb_store_bytes(skb, off + sizeof(ip6), &ext, sizeof(ext), 0) ||
      set_len6(skb, &ip6, bpf_ntohs(ip6.payload_len) + sizeof(ext), IPPROTO_DSTOPTS, 0))
    return TCX_DROP;
  bump(&int_stats, INT_STAMPED);
  return TCX_NEXT;
}

/* Sink: a Destination Options header laid out as the source writes it, with the INT option; anything else passes. */
static __always_inline int sink6(struct __sk_buff *skb)
{
  __u32 off = sizeof(struct ethhdr);
  struct int_rx fresh = {}, *rx;
  struct int_flow6 flow = {};
  struct int6_ext ext;
  struct ipv6hdr ip6;

  if (!int6_option || bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)) || ip6.nexthdr != IPPROTO_DSTOPTS)
    return TCX_NEXT;
  if (bpf_skb_load_bytes(skb, off + sizeof(ip6), &ext, sizeof(ext)) || ext.hdrlen != sizeof(ext) / 8 - 1 ||
      ext.pad_type != IPV6_OPT_PADN || ext.pad_len != sizeof(ext.pad) || ext.opt_type != int6_option)
    return TCX_NEXT;
  /* Ours by its place and type, but not a shim this sink can restore from: dropped, counted. */
  if (ext.opt_len != sizeof(ext.shim) || ext.shim.version != INT_SHIM_VERSION ||
      ext.shim.next_protocol != ext.nexthdr || bpf_ntohs(ip6.payload_len) < sizeof(ext)) {
    bump(&int_stats, INT_SINK_BAD);
    return TCX_DROP;
  }
  flow6_of(skb, &ip6, ext.nexthdr, off + sizeof(ip6) + sizeof(ext), &flow);
  rx = bpf_map_lookup_elem(&rx_flows6, &flow);
  if (!rx) {
    bpf_map_update_elem(&rx_flows6, &flow, &fresh, BPF_NOEXIST);
    rx = bpf_map_lookup_elem(&rx_flows6, &flow);
  }
  record(rx, &ext.shim);

  /* Next Header and length back, then the header out: the packet is as it left the source. */
  if (set_len6(skb, &ip6, bpf_ntohs(ip6.payload_len) - sizeof(ext), ext.nexthdr, BPF_F_RECOMPUTE_CSUM) ||
      bpf_skb_adjust_room(skb, -(__s32)sizeof(ext), BPF_ADJ_ROOM_NET, 0))
    return TCX_DROP;
  bump(&int_stats, INT_STRIPPED);
  return TCX_NEXT;
}

#endif
