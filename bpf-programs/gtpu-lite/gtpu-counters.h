/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* gtpu-lite's counters: per-session packets and bytes, packets by result, and the helpers that count them. */
#ifndef GTPU_COUNTERS_H
#define GTPU_COUNTERS_H

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 65536);
  __type(key, __u32);
  __type(value, struct gtpu_counters);
} sessions SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, STAT_COUNT);
  __type(key, __u32);
  __type(value, struct gtpu_stat_count);
} stats SEC(".maps");

static __always_inline int count(enum gtpu_stat stat, int action)
{
  __u32 key = stat;
  struct gtpu_stat_count *c = bpf_map_lookup_elem(&stats, &key);

  if (c)
    c->packets++;
  return action;
}

static __always_inline void count_session(__u32 session, bool uplink, __u64 bytes)
{
  struct gtpu_counters *c, zero = {};

  c = bpf_map_lookup_elem(&sessions, &session);
  if (!c) {
    bpf_map_update_elem(&sessions, &session, &zero, BPF_NOEXIST);
    c = bpf_map_lookup_elem(&sessions, &session);
    if (!c)
      return;
  }
  if (uplink) {
    c->ul_packets++;
    c->ul_bytes += bytes;
  } else {
    c->dl_packets++;
    c->dl_bytes += bytes;
  }
}

#endif
