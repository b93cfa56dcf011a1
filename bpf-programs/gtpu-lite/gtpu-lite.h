/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Types shared by gtpu-lite.bpf.c and the tools that fill or read its maps. */
#ifndef GTPU_LITE_H
#define GTPU_LITE_H

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define GTPU_PORT 2152
#define GTPU_FLAGS_V1_GTP 0x30 /* version 1, protocol type GTP */
#define GTPU_FLAG_E 0x04       /* an extension header follows */
#define GTPU_FLAGS_OPT 0x07    /* E, S or PN: the 4 optional bytes are present */
#define GTPU_G_PDU 0xFF
#define GTPU_EXT_PDU_SESSION 0x85 /* PDU Session Container (3GPP TS 38.415) */

/* 3GPP TS 29.281 §5.1: the mandatory part of a GTP-U header. */
struct gtpu_hdr {
  __u8 flags;
  __u8 type;
  __be16 length; /* bytes after these 8 */
  __be32 teid;
};

/* The optional part, present when E, S or PN is set. */
struct gtpu_opt {
  __be16 seq;
  __u8 npdu;
  __u8 next_ext;
};

/* Index into the `stats` per-CPU array. */
enum gtpu_stat {
  STAT_DECAP = 0,        /* uplink G-PDU of a known TEID: decapsulated, passed */
  STAT_ENCAP = 1,        /* downlink packet to a known UE: encapsulated */
  STAT_UNKNOWN_TEID = 2, /* uplink G-PDU of an unknown TEID: dropped */
  STAT_NOT_GPDU = 3,     /* GTP-U signalling (echo, error indication, end marker): passed to the stack */
  STAT_MALFORMED = 4,    /* truncated or not GTPv1-U: dropped */
  STAT_PASS_OTHER = 5,   /* neither GTP-U nor to a known UE: passed untouched */
  STAT_TOO_BIG = 6,      /* downlink that an outer IPv6 header would take past n3_mtu: passed unencapsulated */
  STAT_COUNT = 7,
};

/* Uplink: local TEID → session. */
struct gtpu_uplink {
  __u32 session;
};

/* Downlink: UE IPv4 address → where to tunnel it. */
struct gtpu_downlink {
  __u32 teid;       /* the gNB's TEID, host byte order */
  __u8 gnb[4];      /* the gNB's N3 address */
  __u32 session;
  __u8 qfi;         /* QoS flow id for a PDU Session Container; 0 sends no extension header (4G style) */
};

/* Downlink over IPv6: UE IPv4 address → where to tunnel it, the gNB's N3 address being IPv6. */
struct gtpu_downlink6 {
  __u32 teid;       /* the gNB's TEID, host byte order */
  __u8 gnb[16];     /* the gNB's IPv6 N3 address */
  __u32 session;
  __u8 qfi;         /* as in gtpu_downlink */
};

struct gtpu_counters {
  __u64 ul_packets;
  __u64 ul_bytes;
  __u64 dl_packets;
  __u64 dl_bytes;
};

struct gtpu_stat_count {
  __u64 packets;
};

#endif
