/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Types shared by xdp-firewall.bpf.c and the tools that fill or read its maps. */
#ifndef XDP_FIREWALL_H
#define XDP_FIREWALL_H

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8

/* Index into the `verdicts` per-CPU array. */
enum fw_verdict {
  VERDICT_PASS = 0,
  VERDICT_DROP_BLOCKLIST = 1,
  VERDICT_DROP_RATE_LIMIT = 2,
  VERDICT_PASS_NOT_IP = 3,
  VERDICT_DROP_MALFORMED = 4,
  VERDICT_COUNT = 5,
};

/* LPM trie keys: prefix length in bits, then the address in network byte order. */
struct fw_prefix_v4 {
  __u32 prefixlen;
  __u8 addr[4];
};

struct fw_prefix_v6 {
  __u32 prefixlen;
  __u8 addr[16];
};

/* One entry of blocklist_v4_slash16: entry a holds bit b (byte b / 8, bit b % 8) for a.b.0.0/16. */
struct fw_slash16_bits {
  __u8 bits[32];
};

/* Index of blocklist_v4_slash16's control entry: byte 0 = 1 when the writer maintains the bitmap, byte 1
 * = 1 when some prefix is shorter than /16. Unless byte 0 is 1 and byte 1 is 0, every IPv4 packet walks
 * the trie, so a writer that does not know the bitmap (or a blocklist kept from 1.0.0) stays correct. */
#define FW_SLASH16_CONTROL 256
#define FW_SLASH16_ENTRIES 257

/* A rate-limited source: IPv4 addresses are stored as IPv4-mapped IPv6 (::ffff:a.b.c.d). */
struct fw_source {
  __u8 addr[16];
};

/* GCRA form of a token bucket: the time at which the bucket would be full again. */
struct fw_bucket {
  __u64 tat_ns;
};

struct fw_verdict_count {
  __u64 packets;
  __u64 bytes;
};

#endif
