/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Types shared by apn-tagger.bpf.c and the tools that fill or read its maps. */
#ifndef APN_TAGGER_H
#define APN_TAGGER_H

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define APN_FLOW_LABEL_MASK 0xfffff

/* Where the APN header goes on IPv6 (the apn6_carrier setting). */
enum apn6_carrier {
  APN6_NONE = 0,
  APN6_HOP_BY_HOP = 1,
  APN6_DEST_OPTIONS = 2,
};

/* How an app's traffic is marked: its APN ID (the low 20 bits go into the IPv6 flow label; all 32 into the
 * APN6 option) and DSCP. */
struct apn_tag {
  __u32 apn_id;
  __u8 dscp;
};

struct apn_count {
  __u64 packets;
  __u64 bytes;
};

/* Keys of apn6_events: what happened to APN6 insertion (egress) and reading (ingress). */
enum apn6_event {
  APN6_INSERTED = 0,
  APN6_SKIP_EXT_HEADER = 1, /* the packet already has an extension header: left untagged */
  APN6_SKIP_MTU = 2,        /* 16 more bytes would exceed the device MTU: left untagged */
  APN6_SKIP_UDP_GSO = 3,    /* a UDP GSO super-packet: growing it would move datagram boundaries */
  APN6_SKIP_ERROR = 4,      /* the kernel refused to grow or write the packet */
  APN6_SEEN = 5,
  APN6_STRIPPED = 6,
  APN6_EVENT_COUNT = 7,
};

#endif
