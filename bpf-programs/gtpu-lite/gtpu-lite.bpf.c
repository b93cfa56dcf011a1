// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* A GTP-U fast path: decapsulates uplink G-PDUs of known TEIDs (outer IPv4 or IPv6), encapsulates downlink to known
 * UEs: IPv4 over IPv4 or IPv6, IPv6 over IPv6. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "gtpu-lite.h"
#include "gtpu-counters.h"
#include "gtpu-csum.h"
#include "gtpu-decap.h"
#include "gtpu-encap.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* This host's N3 address: the outer source of downlink tunnels (its 4 bytes in network byte order). */
const volatile __u32 n3_address = 0;
/* Send encapsulated downlink back out of the interface it came in on (one-armed UPF), MACs swapped;
 * false hands it to the kernel to route. */
const volatile bool downlink_tx = false;
/* This host's IPv6 N3 address: the outer source of downlink tunnels over IPv6. */
const volatile __u8 n3_address6[16] = {};
/* The largest outer IPv6 packet the N3 path carries: IPv6 routers never fragment, so bigger stays unencapsulated. */
const volatile __u32 n3_mtu = 1500;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, __u32);
  __type(value, struct gtpu_uplink);
} uplink_teids SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, __u8[4]);
  __type(value, struct gtpu_downlink);
} downlink_ues SEC(".maps");

/* The outer family is the policy's choice per UE: a UE in this map is tunnelled over IPv6, in downlink_ues over IPv4. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, __u8[4]);
  __type(value, struct gtpu_downlink6);
} downlink_v6_tunnels SEC(".maps");

/* IPv6 UEs: tunnelled over IPv6 only. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, __u8[16]);
  __type(value, struct gtpu_downlink6);
} downlink_ues6 SEC(".maps");

/* Uplink: strip outer IPv4 or IPv6/UDP/GTP-U (with its extension headers) and pass the inner packet on. */
static __always_inline int uplink(struct xdp_md *ctx, __u32 outer_len)
{
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct gtpu_hdr *gtp = data + sizeof(struct ethhdr) + outer_len;
  struct gtpu_uplink *up;
  unsigned char macs[12];
  struct ethhdr *eth;
  __u32 off, teid;
  __u8 next, *inner;
  int len;

  if (outer_len > 60 + sizeof(struct udphdr) || (void *)(gtp + 1) > data_end)
    return count(STAT_MALFORMED, XDP_DROP);
  if ((gtp->flags & 0xf0) != GTPU_FLAGS_V1_GTP)
    return count(STAT_MALFORMED, XDP_DROP);
  if (gtp->type != GTPU_G_PDU)
    return count(STAT_NOT_GPDU, XDP_PASS);
  teid = bpf_ntohl(gtp->teid);
  up = bpf_map_lookup_elem(&uplink_teids, &teid);
  if (!up)
    return count(STAT_UNKNOWN_TEID, XDP_DROP);

  /* Skip the optional part and the extension headers. */
  len = gtpu_payload_offset(gtp, data_end);
  if (len < 0)
    return count(STAT_MALFORMED, XDP_DROP);
  off = len;
  inner = (__u8 *)gtp + off;
  if ((void *)(inner + 1) > data_end)
    return count(STAT_MALFORMED, XDP_DROP);

  /* Keep the Ethernet addresses, move the header forward, and say which IP version follows. */
  if (data + sizeof(macs) > data_end)
    return count(STAT_MALFORMED, XDP_DROP);
  __builtin_memcpy(macs, data, sizeof(macs));
  next = *inner >> 4;
  if (next != 4 && next != 6)
    return count(STAT_MALFORMED, XDP_DROP);
  if (bpf_xdp_adjust_head(ctx, outer_len + off))
    return count(STAT_MALFORMED, XDP_DROP);
  data = (void *)(long)ctx->data;
  data_end = (void *)(long)ctx->data_end;
  eth = data;
  if ((void *)(eth + 1) > data_end)
    return count(STAT_MALFORMED, XDP_DROP);
  __builtin_memcpy(eth, macs, sizeof(macs));
  eth->h_proto = bpf_htons(next == 4 ? ETH_P_IP : ETH_P_IPV6);
  count_session(up->session, true, data_end - data - sizeof(*eth));
  return count(STAT_DECAP, XDP_PASS);
}

/* Downlink: put an outer IPv4/UDP/GTP-U header (and a PDU Session Container with the QFI) in front. */
static __always_inline int downlink(struct xdp_md *ctx, struct gtpu_downlink *dl)
{
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  int room = sizeof(struct iphdr) + sizeof(struct udphdr) + sizeof(struct gtpu_hdr);
  struct iphdr *inner = data + sizeof(struct ethhdr);
  struct gtpu_hdr *gtp;
  struct ethhdr *eth;
  struct udphdr *udp;
  struct iphdr *ip;
  __u16 inner_len;
  __u8 tos;

  if ((void *)(inner + 1) > data_end)
    return count(STAT_MALFORMED, XDP_DROP);
  inner_len = bpf_ntohs(inner->tot_len);
  tos = inner->tos;
  if (dl->qfi)
    room += sizeof(struct gtpu_opt) + 4;
  if (open_room(ctx, room, downlink_tx))
    return count(STAT_MALFORMED, XDP_DROP);
  data = (void *)(long)ctx->data;
  data_end = (void *)(long)ctx->data_end;
  eth = data;
  ip = (void *)(eth + 1);
  udp = (void *)(ip + 1);
  gtp = (void *)(udp + 1);
  if ((void *)(gtp + 1) + sizeof(struct gtpu_opt) + 4 > data_end)
    return count(STAT_MALFORMED, XDP_DROP);

  eth->h_proto = bpf_htons(ETH_P_IP);
  fill_outer4(ip, tos, room + inner_len, n3_address, dl->gnb);
  /* UDP checksum 0: allowed over IPv4 (RFC 768), and what GTP-U stacks send. */
  fill_udp(udp, room - sizeof(struct iphdr) + inner_len);
  fill_gtpu(gtp, dl->teid, dl->qfi, inner_len);
  count_session(dl->session, false, inner_len);
  return count(STAT_ENCAP, downlink_tx ? XDP_TX : XDP_PASS);
}

/* Downlink over IPv6: the same GTP-U header behind an outer IPv6/UDP header, the UDP checksum computed; the inner
 * packet (IPv4 or IPv6) is `inner_len` bytes, its DSCP/ECN `tos`. */
static __always_inline int downlink6(struct xdp_md *ctx, struct gtpu_downlink6 *dl, __u32 inner_len, __u8 tos)
{
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  int room = sizeof(struct ipv6hdr) + sizeof(struct udphdr) + sizeof(struct gtpu_hdr);
  struct gtpu_hdr *gtp;
  struct ipv6hdr *ip6;
  struct ethhdr *eth;
  struct udphdr *udp;
  __u32 udp_len;

  if (dl->qfi)
    room += sizeof(struct gtpu_opt) + 4;
  udp_len = room - sizeof(struct ipv6hdr) + inner_len;
  if (room + inner_len > n3_mtu || udp_len > GTPU_CSUM_MAX)
    return count(STAT_TOO_BIG, XDP_PASS);
  /* The checksum covers the whole inner packet, so all of it must be here. */
  if (data + sizeof(struct ethhdr) + inner_len > data_end)
    return count(STAT_MALFORMED, XDP_DROP);
  if (open_room(ctx, room, downlink_tx))
    return count(STAT_MALFORMED, XDP_DROP);
  data = (void *)(long)ctx->data;
  data_end = (void *)(long)ctx->data_end;
  eth = data;
  ip6 = (void *)(eth + 1);
  udp = (void *)(ip6 + 1);
  gtp = (void *)(udp + 1);
  if ((void *)(gtp + 1) + sizeof(struct gtpu_opt) + 4 > data_end)
    return count(STAT_MALFORMED, XDP_DROP);

  eth->h_proto = bpf_htons(ETH_P_IPV6);
  fill_outer6(ip6, tos, udp_len, n3_address6, dl->gnb);
  fill_udp(udp, udp_len);
  fill_gtpu(gtp, dl->teid, dl->qfi, inner_len);
  udp->check = udp6_checksum(ip6, udp, data_end, udp_len);
  count_session(dl->session, false, inner_len);
  return count(STAT_ENCAP, downlink_tx ? XDP_TX : XDP_PASS);
}

/* IPv6: tunnels (UDP straight after the fixed header; extension headers are not walked) and downlink to IPv6 UEs. */
static __always_inline int ipv6_in(struct xdp_md *ctx)
{
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);
  struct udphdr *udp = (void *)(ip6 + 1);
  struct gtpu_downlink6 *dl;

  if ((void *)(ip6 + 1) > data_end)
    return count(STAT_MALFORMED, XDP_DROP);
  if (ip6->nexthdr == IPPROTO_UDP && (void *)(udp + 1) <= data_end && udp->dest == bpf_htons(GTPU_PORT))
    return uplink(ctx, sizeof(*ip6) + sizeof(*udp));
  dl = bpf_map_lookup_elem(&downlink_ues6, &ip6->daddr);
  if (dl)
    return downlink6(ctx, dl, sizeof(*ip6) + bpf_ntohs(ip6->payload_len),
                     ip6->priority << 4 | ip6->flow_lbl[0] >> 4);
  return count(STAT_PASS_OTHER, XDP_PASS);
}

SEC("xdp")
int gtpu_fast_path(struct xdp_md *ctx)
{
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  struct gtpu_downlink6 *dl6;
  struct gtpu_downlink *dl;
  struct iphdr *ip;
  __u32 ihl;

  /* Tunnels and UE traffic arrive over IPv4 or IPv6. */
  if ((void *)(eth + 1) > data_end)
    return count(STAT_MALFORMED, XDP_DROP);
  if (eth->h_proto == bpf_htons(ETH_P_IPV6))
    return ipv6_in(ctx);
  if (eth->h_proto != bpf_htons(ETH_P_IP))
    return count(STAT_PASS_OTHER, XDP_PASS);
  ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end)
    return count(STAT_MALFORMED, XDP_DROP);
  ihl = ip->ihl * 4;
  if (ihl < sizeof(*ip))
    return count(STAT_MALFORMED, XDP_DROP);

  /* Uplink: UDP to the GTP-U port (unfragmented). */
  if (ip->protocol == IPPROTO_UDP && !(ip->frag_off & bpf_htons(0x3fff))) {
    struct udphdr *udp = (void *)ip + ihl;

    if ((void *)(udp + 1) > data_end)
      return count(STAT_MALFORMED, XDP_DROP);
    if (udp->dest == bpf_htons(GTPU_PORT))
      return uplink(ctx, ihl + sizeof(*udp));
  }

  /* Downlink: IPv4 to a known UE, over the outer family its entry is in. */
  dl = bpf_map_lookup_elem(&downlink_ues, &ip->daddr);
  if (dl)
    return downlink(ctx, dl);
  dl6 = bpf_map_lookup_elem(&downlink_v6_tunnels, &ip->daddr);
  if (dl6)
    return downlink6(ctx, dl6, bpf_ntohs(ip->tot_len), ip->tos);
  return count(STAT_PASS_OTHER, XDP_PASS);
}
