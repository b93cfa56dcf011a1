// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* In-band telemetry between two hosts: the source stamps per-flow sequence numbers and timestamps into a
 * shim after the IPv4 header (an IPv6 Destination Options header for IPv6), the sink strips it, restoring the
 * packet exactly, and records latency and loss. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "int-telemetry.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The IP protocol number that announces the shim (253: RFC 3692 experimentation). */
const volatile __u8 shim_protocol = 253;
/* Stamp only UDP/TCP packets to this destination port; 0 stamps every UDP and TCP packet. */
const volatile __u16 match_port = 0;
/* The IPv6 option type that carries the shim (0x3E: RFC 4727 experimental, skipped by a receiver that does not
 * know it, may change en route); 0 leaves IPv6 alone. */
const volatile __u8 int6_option = 0x3E;

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct int_flow);
  __type(value, struct int_tx);
} tx_flows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct int_flow);
  __type(value, struct int_rx);
} rx_flows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct int_flow6);
  __type(value, struct int_tx);
} tx_flows6 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct int_flow6);
  __type(value, struct int_rx);
} rx_flows6 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, INT_LATENCY_BUCKETS);
  __type(key, __u32);
  __type(value, struct int_count);
} latency_us_log2 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, INT_STAT_COUNT);
  __type(key, __u32);
  __type(value, struct int_count);
} int_stats SEC(".maps");

static __always_inline void bump(void *map, __u32 key)
{
  struct int_count *c = bpf_map_lookup_elem(map, &key);

  if (c)
    c->packets++;
}

static __always_inline __u32 bucket_of(__u64 ns)
{
  __u64 us = ns / 1000;
  __u32 b = 0;

  for (int i = 0; i < INT_LATENCY_BUCKETS - 1 && us; i++) {
    us >>= 1;
    b++;
  }
  return b;
}

/* Rewrites one 16-bit word of the IPv4 header and patches the header checksum. */
static __always_inline int set_word(struct __sk_buff *skb, __u32 at, __be16 old, __be16 new)
{
  __u32 off = sizeof(struct ethhdr);

  if (bpf_skb_store_bytes(skb, off + at, &new, sizeof(new), 0))
    return -1;
  return bpf_l3_csum_replace(skb, off + offsetof(struct iphdr, check), old, new, sizeof(new));
}

/* The flow of a packet whose transport header starts at `l4`. */
static __always_inline void flow_of(struct __sk_buff *skb, struct iphdr *ip, __u8 protocol, __u32 l4,
                                    struct int_flow *flow)
{
  __be16 ports[2] = {};

  flow->src = ip->saddr;
  flow->dst = ip->daddr;
  flow->protocol = protocol;
  if ((protocol == IPPROTO_UDP || protocol == IPPROTO_TCP) && !bpf_skb_load_bytes(skb, l4, ports, sizeof(ports))) {
    flow->src_port = bpf_ntohs(ports[0]);
    flow->dst_port = bpf_ntohs(ports[1]);
  }
}

/* A stamped packet's arrival: loss is a gap in the sequence, an earlier number after a later one is late. */
static __always_inline void record(struct int_rx *rx, struct int_shim *shim)
{
  __u64 now = bpf_ktime_get_tai_ns(), sent = bpf_be64_to_cpu(shim->sent_ns);
  __u64 latency = now > sent ? now - sent : 0;
  __u32 seq = bpf_ntohl(shim->seq);

  if (rx) {
    rx->received++;
    if (seq >= rx->next_seq) {
      rx->lost += seq - rx->next_seq;
      rx->next_seq = seq + 1;
    } else {
      rx->late++;
    }
    rx->latency_sum_ns += latency;
  }
  bump(&latency_us_log2, bucket_of(latency));
}

#include "int6.h"

SEC("tcx/egress")
int int_source(struct __sk_buff *skb)
{
  __u32 off = sizeof(struct ethhdr);
  struct int_tx fresh = {}, *tx;
  struct int_flow flow = {};
  struct int_shim shim = {};
  struct iphdr ip;
  __be16 old_len, old_proto, new_proto;
  __u32 mtu_len = 0;

  if (skb->protocol == bpf_htons(ETH_P_IPV6))
    return stamp6(skb);
  /* Unfragmented IPv4 UDP/TCP without options, to the matched port. */
  if (skb->protocol != bpf_htons(ETH_P_IP) || bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)))
    return TCX_NEXT;
  if (ip.protocol != IPPROTO_UDP && ip.protocol != IPPROTO_TCP)
    return TCX_NEXT;
  flow_of(skb, &ip, ip.protocol, off + sizeof(ip), &flow);
  if (match_port && flow.dst_port != match_port)
    return TCX_NEXT;
  if (ip.ihl != 5 || (ip.frag_off & bpf_htons(0x3fff)) || skb->gso_size) {
    bump(&int_stats, INT_SKIPPED);
    return TCX_NEXT;
  }
  /* Too big with the shim (bpf_skb_adjust_room no longer checks the MTU since 5.12): it leaves as it is. */
  if (bpf_check_mtu(skb, 0, &mtu_len, sizeof(shim), 0)) {
    bump(&int_stats, INT_SKIPPED_MTU);
    return TCX_NEXT;
  }

  /* The flow's next sequence number. */
  tx = bpf_map_lookup_elem(&tx_flows, &flow);
  if (!tx) {
    bpf_map_update_elem(&tx_flows, &flow, &fresh, BPF_NOEXIST);
    tx = bpf_map_lookup_elem(&tx_flows, &flow);
    if (!tx)
      return TCX_NEXT;
  }
  shim.seq = bpf_htonl((__u32)__sync_fetch_and_add(&tx->next_seq, 1));
  shim.next_protocol = ip.protocol;
  shim.version = INT_SHIM_VERSION;
  shim.sent_ns = bpf_cpu_to_be64(bpf_ktime_get_tai_ns());

  /* Room after the IPv4 header, the shim in it, then the header's length and protocol. */
  if (bpf_skb_adjust_room(skb, sizeof(shim), BPF_ADJ_ROOM_NET, 0)) {
    bump(&int_stats, INT_SKIPPED);
    return TCX_NEXT;
  }
  if (bpf_skb_store_bytes(skb, off + sizeof(ip), &shim, sizeof(shim), 0))
    return TCX_DROP;
  old_len = ip.tot_len;
  __builtin_memcpy(&old_proto, (__u8 *)&ip + 8, 2);
  ip.protocol = shim_protocol;
  __builtin_memcpy(&new_proto, (__u8 *)&ip + 8, 2);
  if (set_word(skb, offsetof(struct iphdr, tot_len), old_len, bpf_htons(bpf_ntohs(old_len) + sizeof(shim))) ||
      set_word(skb, 8, old_proto, new_proto))
    return TCX_DROP;
  bump(&int_stats, INT_STAMPED);
  return TCX_NEXT;
}

SEC("tcx/ingress")
int int_sink(struct __sk_buff *skb)
{
  __u32 off = sizeof(struct ethhdr);
  struct int_rx fresh = {}, *rx;
  struct int_flow flow = {};
  struct int_shim shim;
  struct iphdr ip;
  __be16 old_proto, new_proto, len;

  if (skb->protocol == bpf_htons(ETH_P_IPV6))
    return sink6(skb);
  if (skb->protocol != bpf_htons(ETH_P_IP) || bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)))
    return TCX_NEXT;
  if (ip.protocol != shim_protocol || ip.ihl != 5)
    return TCX_NEXT;
  if (bpf_skb_load_bytes(skb, off + sizeof(ip), &shim, sizeof(shim)) || shim.version != INT_SHIM_VERSION) {
    bump(&int_stats, INT_SINK_BAD);
    return TCX_DROP;
  }
  flow_of(skb, &ip, shim.next_protocol, off + sizeof(ip) + sizeof(shim), &flow);
  rx = bpf_map_lookup_elem(&rx_flows, &flow);
  if (!rx) {
    bpf_map_update_elem(&rx_flows, &flow, &fresh, BPF_NOEXIST);
    rx = bpf_map_lookup_elem(&rx_flows, &flow);
  }
  record(rx, &shim);

  /* Give the packet back its protocol and length, then remove the shim: it is as it left the source. */
  __builtin_memcpy(&old_proto, (__u8 *)&ip + 8, 2);
  ip.protocol = shim.next_protocol;
  __builtin_memcpy(&new_proto, (__u8 *)&ip + 8, 2);
  len = bpf_htons(bpf_ntohs(ip.tot_len) - sizeof(shim));
  if (set_word(skb, 8, old_proto, new_proto) || set_word(skb, offsetof(struct iphdr, tot_len), ip.tot_len, len))
    return TCX_DROP;
  if (bpf_skb_adjust_room(skb, -(__s32)sizeof(shim), BPF_ADJ_ROOM_NET, 0))
    return TCX_DROP;
  bump(&int_stats, INT_STRIPPED);
  return TCX_NEXT;
}
