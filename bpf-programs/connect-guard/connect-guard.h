/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Types shared by connect-guard.bpf.c and the tools that fill or read its maps. */
#ifndef CONNECT_GUARD_H
#define CONNECT_GUARD_H

/* An allow-list rule: the app id, then the destination (IPv4 as IPv4-mapped IPv6) as LPM trie data.
 * prefixlen counts the app id too: 32 + 96 + n for an IPv4 /n, 32 + n for an IPv6 /n. */
struct guard_rule {
  __u32 prefixlen;
  __u32 app;
  __u8 addr[16];
};

/* What a matching rule allows: one destination port, or any port when 0 (host byte order). */
struct guard_allow {
  __u16 port;
};

/* Connects of one cgroup, allowed and denied (denied ones were refused unless enforce is off). */
struct guard_counters {
  __u64 allowed;
  __u64 denied;
};

#endif
