// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* A GTP-U fast path: decapsulates uplink G-PDUs of known TEIDs, encapsulates downlink IPv4 to known UEs. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "gtpu-lite.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* This host's N3 address: the outer source of downlink tunnels (its 4 bytes in network byte order). */
const volatile __u32 n3_address = 0;
/* Send encapsulated downlink back out of the interface it came in on (one-armed UPF), MACs swapped;
 * false hands it to the kernel to route. */
const volatile bool downlink_tx = false;

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

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 65536);
  __type(key, __u32);
  __type(value, struct gtpu_counters);
} sessions SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, STAT_COUNT);
  __type(key, __u32);
  __type(value, struct gtpu_stat_count);
} stats SEC(".maps");

static __always_inline int count(enum gtpu_stat stat, int action)
{
  __u32 key = stat;
  struct gtpu_stat_count *c = bpf_map_lookup_elem(&stats, &key);

  if (c)
    c->packets++;
  return action;
}

static __always_inline void count_session(__u32 session, bool uplink, __u64 bytes)
{
  struct gtpu_counters *c, zero = {};

  c = bpf_map_lookup_elem(&sessions, &session);
  if (!c) {
    bpf_map_update_elem(&sessions, &session, &zero, BPF_NOEXIST);
    c = bpf_map_lookup_elem(&sessions, &session);
    if (!c)
      return;
  }
  if (uplink) {
    c->ul_packets++;
    c->ul_bytes += bytes;
  } else {
    c->dl_packets++;
    c->dl_bytes += bytes;
  }
}

static __always_inline __u16 ipv4_checksum(struct iphdr *ip)
{
  __u16 *w = (__u16 *)ip;
  __u32 sum = 0;

#pragma unroll
  for (int i = 0; i < 10; i++)
    sum += w[i];
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return ~sum;
}

/* Uplink: strip outer IPv4/UDP/GTP-U (with its extension headers) and pass the inner packet on. */
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

  /* Skip the optional part and walk the extension headers (each says its length in 4-byte units). */
  off = sizeof(*gtp);
  if (gtp->flags & GTPU_FLAGS_OPT) {
    struct gtpu_opt *opt = (void *)(gtp + 1);

    if ((void *)(opt + 1) > data_end)
      return count(STAT_MALFORMED, XDP_DROP);
    off += sizeof(*opt);
    next = (gtp->flags & GTPU_FLAG_E) ? opt->next_ext : 0;
    for (int i = 0; i < 4; i++) {
      __u8 *ext, *last;

      if (!next)
        break;
      if (off > 255)
        return count(STAT_MALFORMED, XDP_DROP);
      ext = (__u8 *)gtp + off;
      if ((void *)(ext + 1) > data_end || ext[0] == 0)
        return count(STAT_MALFORMED, XDP_DROP);
      /* The last byte of an extension header names the next one. */
      last = ext + ext[0] * 4 - 1;
      if ((void *)(last + 1) > data_end)
        return count(STAT_MALFORMED, XDP_DROP);
      next = *last;
      off += ext[0] * 4;
    }
    if (next)
      return count(STAT_MALFORMED, XDP_DROP);
  }
  if (off > 255 + 4 * 255)
    return count(STAT_MALFORMED, XDP_DROP);
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
  unsigned char macs[12];
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
  if (downlink_tx) {
    /* Back out where it came from: the sender becomes the next hop. */
    __builtin_memcpy(macs, data + 6, 6);
    __builtin_memcpy(macs + 6, data, 6);
  } else {
    __builtin_memcpy(macs, data, sizeof(macs));
  }
  if (bpf_xdp_adjust_head(ctx, -room))
    return count(STAT_MALFORMED, XDP_DROP);
  data = (void *)(long)ctx->data;
  data_end = (void *)(long)ctx->data_end;
  eth = data;
  ip = (void *)(eth + 1);
  udp = (void *)(ip + 1);
  gtp = (void *)(udp + 1);
  if ((void *)(gtp + 1) + sizeof(struct gtpu_opt) + 4 > data_end)
    return count(STAT_MALFORMED, XDP_DROP);

  __builtin_memcpy(eth, macs, sizeof(macs));
  eth->h_proto = bpf_htons(ETH_P_IP);
  /* The outer header copies the inner DSCP/ECN so the transport network sees the same class. */
  ip->version = 4;
  ip->ihl = 5;
  ip->tos = tos;
  ip->tot_len = bpf_htons(room + inner_len);
  ip->id = 0;
  ip->frag_off = 0;
  ip->ttl = 64;
  ip->protocol = IPPROTO_UDP;
  ip->check = 0;
  ip->saddr = n3_address;
  __builtin_memcpy(&ip->daddr, dl->gnb, 4);
  ip->check = ipv4_checksum(ip);
  /* UDP checksum 0: allowed over IPv4 (RFC 768), and what GTP-U stacks send. */
  udp->source = bpf_htons(GTPU_PORT);
  udp->dest = bpf_htons(GTPU_PORT);
  udp->len = bpf_htons(room - sizeof(struct iphdr) + inner_len);
  udp->check = 0;
  gtp->type = GTPU_G_PDU;
  gtp->length = bpf_htons(room - sizeof(struct iphdr) - sizeof(struct udphdr) - sizeof(struct gtpu_hdr) + inner_len);
  gtp->teid = bpf_htonl(dl->teid);
  if (dl->qfi) {
    struct gtpu_opt *opt = (void *)(gtp + 1);
    __u8 *ext = (void *)(opt + 1);

    gtp->flags = GTPU_FLAGS_V1_GTP | GTPU_FLAG_E;
    opt->seq = 0;
    opt->npdu = 0;
    opt->next_ext = GTPU_EXT_PDU_SESSION;
    /* TS 38.415 DL PDU SESSION INFORMATION: length 1, PDU type 0 (DL), QFI, no next header. */
    ext[0] = 1;
    ext[1] = 0;
    ext[2] = dl->qfi & 0x3f;
    ext[3] = 0;
  } else {
    gtp->flags = GTPU_FLAGS_V1_GTP;
  }
  count_session(dl->session, false, inner_len);
  return count(STAT_ENCAP, downlink_tx ? XDP_TX : XDP_PASS);
}

SEC("xdp")
int gtpu_fast_path(struct xdp_md *ctx)
{
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  struct gtpu_downlink *dl;
  struct iphdr *ip;
  __u32 ihl;

  /* Only IPv4 carries tunnels and UE traffic here. */
  if ((void *)(eth + 1) > data_end)
    return count(STAT_MALFORMED, XDP_DROP);
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

  /* Downlink: IPv4 to a known UE. */
  dl = bpf_map_lookup_elem(&downlink_ues, &ip->daddr);
  if (dl)
    return downlink(ctx, dl);
  return count(STAT_PASS_OTHER, XDP_PASS);
}
