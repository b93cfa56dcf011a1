// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Observes DNS over UDP at tcx: counts responses by rcode, histograms query→response latency, samples events. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "dns-observer.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The DNS server port. */
const volatile __u16 dns_port = 53;
/* Send one response in this many to the ring buffer; 0 sends none. */
const volatile __u32 sample_every = 100;

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, struct dns_flow);
  __type(value, struct dns_pending);
} pending SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, struct dns_count);
} responses_by_rcode SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, DNS_LATENCY_BUCKETS);
  __type(key, __u32);
  __type(value, struct dns_count);
} latency_us_log2 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, DNS_STAT_COUNT);
  __type(key, __u32);
  __type(value, struct dns_count);
} dns_stats SEC(".maps");

/* Responses seen, for sampling; one shared counter so that 1 in N holds across CPUs. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} sample_clock SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline void bump(void *map, __u32 key)
{
  struct dns_count *c = bpf_map_lookup_elem(map, &key);

  if (c)
    c->packets++;
}

/* log2 bucket of the latency in µs: bucket b holds [2^(b-1), 2^b) µs, bucket 0 under 1 µs. */
static __always_inline __u32 bucket_of(__u64 ns)
{
  __u64 us = ns / 1000;
  __u32 b = 0;

  for (int i = 0; i < DNS_LATENCY_BUCKETS - 1 && us; i++) {
    us >>= 1;
    b++;
  }
  return b;
}

static __always_inline bool sampled(void)
{
  __u32 zero = 0;
  __u64 *n;

  if (!sample_every)
    return false;
  n = bpf_map_lookup_elem(&sample_clock, &zero);
  return n && __sync_fetch_and_add(n, 1) % sample_every == 0;
}

static __always_inline void emit(struct __sk_buff *skb, struct dns_flow *flow, __u64 latency, __u8 rcode, __u32 qoff)
{
  struct dns_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  __u64 avail;

  if (!e) {
    bump(&dns_stats, DNS_EVENTS_LOST);
    return;
  }
  e->latency_ns = latency;
  __builtin_memcpy(e->client, flow->client, 16);
  __builtin_memcpy(e->server, flow->server, 16);
  e->client_port = flow->client_port;
  e->id = flow->id;
  e->rcode = rcode;
  __builtin_memset(e->question, 0, sizeof(e->question));
  /* As much of the question as the packet has, up to the event's room. */
  e->question_len = 0;
  avail = skb->len > qoff ? skb->len - qoff : 0;
  if (avail > DNS_QUESTION_BYTES)
    avail = DNS_QUESTION_BYTES;
  if (avail > 0 && !bpf_skb_load_bytes(skb, qoff, e->question, avail))
    e->question_len = avail;
  bpf_ringbuf_submit(e, 0);
}

static __always_inline int observe(struct __sk_buff *skb)
{
  struct dns_flow flow = {};
  __u8 src[16] = {}, dst[16] = {};
  __u32 off = sizeof(struct ethhdr);
  struct udphdr udp;
  __u8 dns[4];
  __u16 proto = skb->protocol;
  __u64 now;

  /* Addresses (IPv4 mapped into IPv6) and the offset of the UDP header. */
  if (proto == bpf_htons(ETH_P_IP)) {
    struct iphdr ip;

    if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)) || ip.protocol != IPPROTO_UDP)
      return TCX_NEXT;
    if (ip.frag_off & bpf_htons(0x1fff))
      return TCX_NEXT;
    src[10] = src[11] = dst[10] = dst[11] = 0xff;
    __builtin_memcpy(&src[12], &ip.saddr, 4);
    __builtin_memcpy(&dst[12], &ip.daddr, 4);
    off += ip.ihl * 4;
  } else if (proto == bpf_htons(ETH_P_IPV6)) {
    struct ipv6hdr ip6;

    if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)) || ip6.nexthdr != IPPROTO_UDP)
      return TCX_NEXT;
    __builtin_memcpy(src, &ip6.saddr, 16);
    __builtin_memcpy(dst, &ip6.daddr, 16);
    off += sizeof(ip6);
  } else {
    return TCX_NEXT;
  }
  if (bpf_skb_load_bytes(skb, off, &udp, sizeof(udp)))
    return TCX_NEXT;
  if (udp.dest != bpf_htons(dns_port) && udp.source != bpf_htons(dns_port))
    return TCX_NEXT;
  off += sizeof(udp);
  /* The DNS header: id, then QR|opcode|AA|TC|RD, then RA|Z|rcode; the question follows 12 bytes in. */
  if (bpf_skb_load_bytes(skb, off, dns, sizeof(dns)) || skb->len < off + 12) {
    bump(&dns_stats, DNS_MALFORMED);
    return TCX_NEXT;
  }
  now = bpf_ktime_get_ns();
  flow.id = (dns[0] << 8) | dns[1];

  if (!(dns[2] & 0x80)) {
    /* A query: remember when it left (or arrived, on a resolver's ingress). */
    struct dns_pending p = { .sent_ns = now };

    __builtin_memcpy(flow.client, src, 16);
    __builtin_memcpy(flow.server, dst, 16);
    flow.client_port = bpf_ntohs(udp.source);
    bpf_map_update_elem(&pending, &flow, &p, BPF_ANY);
    bump(&dns_stats, DNS_QUERIES);
    return TCX_NEXT;
  }

  /* A response: count its rcode, and time it against its query. */
  __u8 rcode = dns[3] & 0x0f;
  struct dns_pending *p;
  __u64 latency;

  __builtin_memcpy(flow.client, dst, 16);
  __builtin_memcpy(flow.server, src, 16);
  flow.client_port = bpf_ntohs(udp.dest);
  bump(&dns_stats, DNS_RESPONSES);
  bump(&responses_by_rcode, rcode);
  p = bpf_map_lookup_elem(&pending, &flow);
  if (!p) {
    bump(&dns_stats, DNS_UNMATCHED);
    return TCX_NEXT;
  }
  latency = now - p->sent_ns;
  bpf_map_delete_elem(&pending, &flow);
  bump(&latency_us_log2, bucket_of(latency));
  if (sampled())
    emit(skb, &flow, latency, rcode, off + 12);
  return TCX_NEXT;
}

SEC("tcx/ingress")
int dns_ingress(struct __sk_buff *skb)
{
  return observe(skb);
}

SEC("tcx/egress")
int dns_egress(struct __sk_buff *skb)
{
  return observe(skb);
}
