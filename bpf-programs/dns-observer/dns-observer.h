/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Types shared by dns-observer.bpf.c and the tools that read its maps and ring buffer. */
#ifndef DNS_OBSERVER_H
#define DNS_OBSERVER_H

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define DNS_LATENCY_BUCKETS 32
#define DNS_QUESTION_BYTES 64

/* A query waiting for its response: the client's side of the tuple, the server, and the DNS id.
 * Addresses are IPv6; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d). */
struct dns_flow {
  __u8 client[16];
  __u8 server[16];
  __u16 client_port; /* host byte order */
  __u16 id;          /* host byte order */
};

struct dns_pending {
  __u64 sent_ns;
};

/* Index into the `dns_stats` per-CPU array. */
enum dns_stat {
  DNS_QUERIES = 0,
  DNS_RESPONSES = 1,
  DNS_UNMATCHED = 2, /* responses with no query seen (or answered twice) */
  DNS_MALFORMED = 3, /* UDP/53 shorter than a DNS header */
  DNS_EVENTS_LOST = 4,
  DNS_STAT_COUNT = 5,
};

struct dns_count {
  __u64 packets;
};

/* A sampled response, as the ring buffer carries it. */
struct dns_event {
  __u64 latency_ns;
  __u8 client[16];
  __u8 server[16];
  __u16 client_port;
  __u16 id;
  __u8 rcode;
  __u8 question_len;                    /* bytes of `question` that are valid */
  __u8 question[DNS_QUESTION_BYTES];    /* the start of the question section, as on the wire */
};

#endif
