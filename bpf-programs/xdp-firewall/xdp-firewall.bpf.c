// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Drops packets from blocklisted IPv4/IPv6 prefixes and sources over their rate; counts each verdict. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xdp-firewall.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Packets per second allowed from one source address; 0 turns the rate limit off. */
const volatile __u32 rate_limit_pps = 0;
/* Packets a source may send at once above its rate. */
const volatile __u32 rate_limit_burst = 100;

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct fw_prefix_v4);
  __type(value, __u8);
} blocklist_v4 SEC(".maps");

/* Prefilter for blocklist_v4: which /16s hold a prefix (see xdp-firewall.h). Walking the trie costs
 * ~100 ns with 10,000 prefixes; two array lookups let sources of other /16s skip it. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, FW_SLASH16_ENTRIES);
  __type(key, __u32);
  __type(value, struct fw_slash16_bits);
} blocklist_v4_slash16 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct fw_prefix_v6);
  __type(value, __u8);
} blocklist_v6 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct fw_source);
  __type(value, struct fw_bucket);
} rate_buckets SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, VERDICT_COUNT);
  __type(key, __u32);
  __type(value, struct fw_verdict_count);
} verdicts SEC(".maps");

static __always_inline int count(enum fw_verdict verdict, __u64 bytes, int action)
{
  __u32 key = verdict;
  struct fw_verdict_count *c = bpf_map_lookup_elem(&verdicts, &key);

  if (c) {
    c->packets++;
    c->bytes += bytes;
  }
  return action;
}

/* False only when the prefilter is in use and says no prefix can hold this IPv4 source. */
static __always_inline bool may_be_blocked_v4(const __u8 saddr[4])
{
  __u32 key = FW_SLASH16_CONTROL;
  struct fw_slash16_bits *e = bpf_map_lookup_elem(&blocklist_v4_slash16, &key);
  __u8 b = saddr[1];

  if (!e || e->bits[0] != 1 || e->bits[1] != 0)
    return true;
  key = saddr[0];
  e = bpf_map_lookup_elem(&blocklist_v4_slash16, &key);
  return !e || (e->bits[b >> 3] & (1 << (b & 7)));
}

/* True when the source is over its rate; GCRA keeps one timestamp per source instead of tokens. */
static __always_inline bool over_rate(const struct fw_source *src)
{
  __u64 now, interval, tolerance, tat;
  struct fw_bucket *b, fresh;

  if (rate_limit_pps == 0)
    return false;
  now = bpf_ktime_get_ns();
  interval = 1000000000ULL / rate_limit_pps;
  tolerance = interval * (rate_limit_burst ? rate_limit_burst : 1);

  b = bpf_map_lookup_elem(&rate_buckets, src);
  if (!b) {
    fresh.tat_ns = now + interval;
    bpf_map_update_elem(&rate_buckets, src, &fresh, BPF_ANY);
    return false;
  }
  tat = b->tat_ns > now ? b->tat_ns : now;
  if (tat + interval - now > tolerance)
    return true;
  /* Races between CPUs only let a few extra packets through: no lock on the fast path. */
  b->tat_ns = tat + interval;
  return false;
}

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
{
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  __u64 bytes = data_end - data;
  struct ethhdr *eth = data;
  struct fw_source src = {};
  void *l3;
  __u16 proto;

  /* Ethernet header, then at most two VLAN tags. */
  if ((void *)(eth + 1) > data_end)
    return count(VERDICT_DROP_MALFORMED, bytes, XDP_DROP);
  proto = eth->h_proto;
  l3 = eth + 1;
#pragma unroll
  for (int i = 0; i < 2; i++) {
    struct vlan_hdr *vlan = l3;

    if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
      break;
    if ((void *)(vlan + 1) > data_end)
      return count(VERDICT_DROP_MALFORMED, bytes, XDP_DROP);
    proto = vlan->h_vlan_encapsulated_proto;
    l3 = vlan + 1;
  }

  /* Source address: look it up in the blocklist of its family. */
  if (proto == bpf_htons(ETH_P_IP)) {
    struct iphdr *ip = l3;
    struct fw_prefix_v4 key = { .prefixlen = 32 };

    if ((void *)(ip + 1) > data_end)
      return count(VERDICT_DROP_MALFORMED, bytes, XDP_DROP);
    __builtin_memcpy(key.addr, &ip->saddr, 4);
    if (may_be_blocked_v4(key.addr) && bpf_map_lookup_elem(&blocklist_v4, &key))
      return count(VERDICT_DROP_BLOCKLIST, bytes, XDP_DROP);
    src.addr[10] = 0xff;
    src.addr[11] = 0xff;
    __builtin_memcpy(&src.addr[12], &ip->saddr, 4);
  } else if (proto == bpf_htons(ETH_P_IPV6)) {
    struct ipv6hdr *ip6 = l3;
    struct fw_prefix_v6 key = { .prefixlen = 128 };

    if ((void *)(ip6 + 1) > data_end)
      return count(VERDICT_DROP_MALFORMED, bytes, XDP_DROP);
    __builtin_memcpy(key.addr, &ip6->saddr, 16);
    if (bpf_map_lookup_elem(&blocklist_v6, &key))
      return count(VERDICT_DROP_BLOCKLIST, bytes, XDP_DROP);
    __builtin_memcpy(src.addr, &ip6->saddr, 16);
  } else {
    return count(VERDICT_PASS_NOT_IP, bytes, XDP_PASS);
  }

  /* Per-source rate limit. */
  if (over_rate(&src))
    return count(VERDICT_DROP_RATE_LIMIT, bytes, XDP_DROP);
  return count(VERDICT_PASS, bytes, XDP_PASS);
}
