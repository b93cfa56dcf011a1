/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Header writers of gtpu-lite's downlink: the outer IPv4 or IPv6 and UDP headers, the GTP-U header, and the room. */
#ifndef GTPU_ENCAP_H
#define GTPU_ENCAP_H

/* The outer header copies the inner DSCP/ECN so the transport network sees the same class (RFC 2983's uniform
 * model). */
static __always_inline void fill_outer4(struct iphdr *ip, __u8 tos, __u16 tot_len, __u32 saddr, const __u8 *daddr)
{
  ip->version = 4;
  ip->ihl = 5;
  ip->tos = tos;
  ip->tot_len = bpf_htons(tot_len);
  ip->id = 0;
  ip->frag_off = 0;
  ip->ttl = 64;
  ip->protocol = IPPROTO_UDP;
  ip->check = 0;
  ip->saddr = saddr;
  __builtin_memcpy(&ip->daddr, daddr, 4);
  ip->check = ipv4_checksum(ip);
}

/* The same over IPv6: the traffic class from the inner DSCP/ECN, no flow label. */
static __always_inline void fill_outer6(struct ipv6hdr *ip6, __u8 tos, __u16 payload_len, const volatile __u8 *saddr,
                                        const __u8 *daddr)
{
  ip6->version = 6;
  ip6->priority = tos >> 4;
  ip6->flow_lbl[0] = (tos & 0x0f) << 4;
  ip6->flow_lbl[1] = 0;
  ip6->flow_lbl[2] = 0;
  ip6->payload_len = bpf_htons(payload_len);
  ip6->nexthdr = IPPROTO_UDP;
  ip6->hop_limit = 64;
  /* Byte by byte: a memcpy would drop the volatile and let the compiler fold in the default, all zeros. */
#pragma unroll
  for (int i = 0; i < 16; i++)
    ((__u8 *)&ip6->saddr)[i] = saddr[i];
  __builtin_memcpy(&ip6->daddr, daddr, 16);
}

/* UDP 2152 → 2152 with checksum 0 (the IPv6 caller computes it once the GTP-U header is in). */
static __always_inline void fill_udp(struct udphdr *udp, __u16 len)
{
  udp->source = bpf_htons(GTPU_PORT);
  udp->dest = bpf_htons(GTPU_PORT);
  udp->len = bpf_htons(len);
  udp->check = 0;
}

/* The G-PDU header for `inner_len` bytes, with a QFI also a TS 38.415 DL PDU Session Container: length 1, PDU type 0
 * (DL), the QFI, no next header. */
static __always_inline void fill_gtpu(struct gtpu_hdr *gtp, __u32 teid, __u8 qfi, __u16 inner_len)
{
  struct gtpu_opt *opt = (void *)(gtp + 1);
  __u8 *ext = (void *)(opt + 1);

  gtp->type = GTPU_G_PDU;
  gtp->length = bpf_htons((qfi ? sizeof(*opt) + 4 : 0) + inner_len);
  gtp->teid = bpf_htonl(teid);
  gtp->flags = GTPU_FLAGS_V1_GTP;
  if (!qfi)
    return;
  gtp->flags |= GTPU_FLAG_E;
  opt->seq = 0;
  opt->npdu = 0;
  opt->next_ext = GTPU_EXT_PDU_SESSION;
  ext[0] = 1;
  ext[1] = 0;
  ext[2] = qfi & 0x3f;
  ext[3] = 0;
}

/* Opens `room` bytes between the Ethernet header and the packet; the MACs are kept, or swapped to send it back
 * out where it came from (the sender becomes the next hop). */
static __always_inline int open_room(struct xdp_md *ctx, int room, bool swap)
{
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  unsigned char macs[12];

  if (data + sizeof(macs) > data_end)
    return -1;
  if (swap) {
    __builtin_memcpy(macs, data + 6, 6);
    __builtin_memcpy(macs + 6, data, 6);
  } else {
    __builtin_memcpy(macs, data, sizeof(macs));
  }
  if (bpf_xdp_adjust_head(ctx, -room))
    return -1;
  data = (void *)(long)ctx->data;
  data_end = (void *)(long)ctx->data_end;
  if (data + sizeof(macs) > data_end)
    return -1;
  __builtin_memcpy(data, macs, sizeof(macs));
  return 0;
}

#endif
