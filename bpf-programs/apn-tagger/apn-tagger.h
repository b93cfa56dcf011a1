/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Types shared by apn-tagger.bpf.c and the tools that fill or read its maps. */
#ifndef APN_TAGGER_H
#define APN_TAGGER_H

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define APN_FLOW_LABEL_MASK 0xfffff

/* How an app's traffic is marked: its APN ID (the low 20 bits go into the IPv6 flow label) and DSCP. */
struct apn_tag {
  __u32 apn_id;
  __u8 dscp;
};

struct apn_count {
  __u64 packets;
  __u64 bytes;
};

#endif
