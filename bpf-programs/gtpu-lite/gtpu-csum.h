/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Internet checksums for gtpu-lite's outer headers: IPv4 header, and UDP over IPv6 (mandatory there, RFC 8200 §8.1). */
#ifndef GTPU_CSUM_H
#define GTPU_CSUM_H

/* The longest UDP datagram whose IPv6 checksum is computed: a bound the verifier can see (one 4 KiB page of XDP). */
#define GTPU_CSUM_MAX 4096

static __always_inline __u16 csum_fold(__u64 sum)
{
#pragma unroll
  for (int i = 0; i < 4; i++)
    sum = (sum & 0xffff) + (sum >> 16);
  return ~sum;
}

static __always_inline __u16 ipv4_checksum(struct iphdr *ip)
{
  __u16 *w = (__u16 *)ip;
  __u32 sum = 0;

#pragma unroll
  for (int i = 0; i < 10; i++)
    sum += w[i];
  return csum_fold(sum);
}

/* The UDP checksum of the `len` bytes at `udp` (check field 0) under ip6's pseudo-header. Words are summed in
 * memory order: the one's complement sum is byte-order independent (RFC 1071), so the result is stored as is. */
static __always_inline __u16 udp6_checksum(struct ipv6hdr *ip6, void *udp, void *data_end, __u32 len)
{
  __u32 *a = (__u32 *)&ip6->saddr;
  __u64 sum = bpf_htonl(len) + bpf_htonl(IPPROTO_UDP);
  __u32 off = 0;
  __u16 check;

#pragma unroll
  for (int i = 0; i < 8; i++)
    sum += a[i];
  for (int i = 0; i < GTPU_CSUM_MAX / 4; i++) {
    __u32 *w = udp + off;

    if (off + 4 > len || (void *)(w + 1) > data_end)
      break;
    sum += *w;
    off += 4;
  }
  /* The last 1 to 3 bytes, zero-padded to a word (the shift places each byte where a load would on
   * our little-endian targets, x86 and arm64). */
#pragma unroll
  for (int k = 0; k < 3; k++) {
    __u8 *b = udp + off + k;

    if (off + k >= len || (void *)(b + 1) > data_end)
      break;
    sum += (__u64)*b << (8 * k);
  }
  check = csum_fold(sum);
  /* 0 means "no checksum"; a computed 0 is sent as all ones (RFC 768). */
  return check ? check : 0xffff;
}

#endif
