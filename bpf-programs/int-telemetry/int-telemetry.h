/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Types shared by int-telemetry.bpf.c and the tools that read its maps. */
#ifndef INT_TELEMETRY_H
#define INT_TELEMETRY_H

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_DSTOPTS 60
#define IPV6_OPT_PADN 1
#define INT_SHIM_VERSION 1
#define INT_LATENCY_BUCKETS 32

/* The telemetry shim the source inserts right after the IPv4 header (the IP protocol then says
 * `shim_protocol`), or carries as the data of an IPv6 option; all fields in network byte order. */
struct int_shim {
  __u8 next_protocol; /* the packet's own IP protocol (IPv6: Next Header), restored by the sink */
  __u8 version;
  __u16 reserved;
  __be32 seq;         /* per-flow sequence number, from 0 */
  __be64 sent_ns;     /* CLOCK_TAI at the source */
};

/* A flow: IPv4 addresses (network order) and transport ports (host order) of the original packet. */
struct int_flow {
  __be32 src;
  __be32 dst;
  __u16 src_port;
  __u16 dst_port;
  __u8 protocol;
};

/* The Destination Options header the IPv6 source inserts right after the IPv6 header: 24 bytes (Hdr Ext
 * Len 2). A PadN comes first so that the shim, the option's data, starts at offset 8 and its timestamp at
 * 16, both naturally aligned (RFC 8200 4.2: alignment 8n+6 for the option type). */
struct int6_ext {
  __u8 nexthdr;  /* the packet's own Next Header (UDP or TCP) */
  __u8 hdrlen;   /* 2: (24 / 8) - 1 */
  __u8 pad_type; /* PadN */
  __u8 pad_len;  /* 2 */
  __u8 pad[2];
  __u8 opt_type; /* `int6_option` */
  __u8 opt_len;  /* 16 */
  struct int_shim shim;
};

_Static_assert(sizeof(struct int_shim) == 16, "the shim is 16 bytes");
_Static_assert(sizeof(struct int6_ext) == 24, "the inserted extension header is 24 bytes");

/* An IPv6 flow: addresses as on the wire, transport ports in host order (40 bytes with the tail padding). */
struct int_flow6 {
  struct in6_addr src;
  struct in6_addr dst;
  __u16 src_port;
  __u16 dst_port;
  __u8 protocol;
};

struct int_tx {
  __u64 next_seq; /* 64 bits for an atomic fetch-and-add; the shim carries the low 32 */
};

/* What the sink knows about a flow. */
struct int_rx {
  __u64 received;
  __u64 lost;          /* sequence numbers skipped: packets that never arrived */
  __u64 late;          /* arrived after a later one (reordered or duplicated) */
  __u64 latency_sum_ns;
  __u32 next_seq;
  __u32 pad;
};

struct int_count {
  __u64 packets;
};

/* Index into the `int_stats` per-CPU array. */
enum int_stat {
  INT_STAMPED = 0,       /* source: shim inserted */
  INT_SKIPPED = 1,       /* source: matched but not stampable (options, fragment, GSO) or no room */
  INT_STRIPPED = 2,      /* sink: shim removed */
  INT_SINK_BAD = 3,      /* sink: shim of an unknown version or truncated: dropped */
  INT_SKIPPED_MTU = 4,   /* source: the shim or extension header would take the packet past the MTU */
  INT_STAT_COUNT = 5,
};

#endif
