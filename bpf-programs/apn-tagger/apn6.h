/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The APN header as an IPv6 option (draft-li-6man-apn-ipv6-encap-00): layout and the constants around it. */
#ifndef APN6_H
#define APN6_H

#define IPPROTO_HOPOPTS 0
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_ICMPV6 58
#define IPPROTO_DSTOPTS 60
#define IPV6_OPT_PAD1 0
#define IPV6_OPT_PADN 1
/* APN-ID-Type 1: a 32-bit APN-ID (2 and 3 are 64 and 128 bits; this program writes and reads type 1). */
#define APN6_ID_TYPE_32 1
#define APN6_MAX_OPTIONS 16

/* The whole extension header this program inserts: 16 bytes (Hdr Ext Len 1). The option starts at
 * offset 2, which puts the 32-bit APN-ID at offset 8, naturally aligned; a PadN fills the header to a
 * multiple of 8 octets (RFC 8200 4.2). */
struct apn6_ext {
  __u8 nexthdr;
  __u8 hdrlen;
  __u8 opt_type;
  __u8 opt_len;  /* 8: APN-ID-Type, Flags, APN-Para-Type (2), APN-ID (4) */
  __u8 id_type;  /* APN6_ID_TYPE_32 */
  __u8 flags;    /* 0 */
  __be16 para_type; /* 0: no APN parameters follow */
  __be32 apn_id;
  __u8 pad_type; /* PadN */
  __u8 pad_len;  /* 2 */
  __u8 pad[2];
};

_Static_assert(sizeof(struct apn6_ext) == 16, "the inserted extension header is 16 bytes");

#define APN6_OPT_DATA_LEN 8

#endif
