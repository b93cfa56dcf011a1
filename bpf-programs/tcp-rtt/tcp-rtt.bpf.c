// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Per-app (per-cgroup) TCP round-trip time histograms from sockops RTT callbacks, in log2 buckets of µs. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "tcp-rtt.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Count the ancestor cgroup at this level instead of the socket owner's own cgroup; 0 counts the own. */
const volatile __u32 cgroup_level = 0;

/* The app of each socket, noted in process context (connect, listen) because RTT callbacks run in
 * softirq where the current task is unrelated; accepted sockets inherit their listener's (BPF_F_CLONE). */
struct {
  __uint(type, BPF_MAP_TYPE_SK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
  __type(key, int);
  __type(value, __u64);
} socket_app SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct rtt_bucket_key);
  __type(value, struct rtt_count);
} rtt_histogram SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64);
  __type(value, struct rtt_totals);
} rtt_by_app SEC(".maps");

static __always_inline void *counter(void *map, const void *key, const void *zero)
{
  void *v = bpf_map_lookup_elem(map, key);

  if (v)
    return v;
  bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
  return bpf_map_lookup_elem(map, key);
}

static __always_inline __u32 bucket_of(__u32 us)
{
  __u32 b = 0;

  for (int i = 0; i < RTT_BUCKETS - 1 && us; i++) {
    us >>= 1;
    b++;
  }
  return b;
}

/* The app a socket belongs to, or 0 when it was opened before this program was attached. */
static __always_inline __u64 app_of(struct bpf_sock_ops *skops)
{
  struct bpf_sock *sk = skops->sk;
  __u64 *app;

  if (!sk)
    return 0;
  app = bpf_sk_storage_get(&socket_app, sk, 0, 0);
  return app ? *app : 0;
}

static __always_inline void note_app(struct bpf_sock_ops *skops)
{
  __u64 id = cgroup_level ? bpf_get_current_ancestor_cgroup_id(cgroup_level) : bpf_get_current_cgroup_id();
  struct bpf_sock *sk = skops->sk;
  __u64 *app;

  if (!sk)
    return;
  app = bpf_sk_storage_get(&socket_app, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
  if (app)
    *app = id;
}

SEC("sockops")
int tcp_rtt(struct bpf_sock_ops *skops)
{
  struct rtt_totals zero_totals = {}, *totals;
  struct rtt_count zero = {}, *count;
  struct rtt_bucket_key key = {};
  __u64 app;
  __u32 us;

  switch (skops->op) {
  case BPF_SOCK_OPS_TCP_CONNECT_CB:
  case BPF_SOCK_OPS_TCP_LISTEN_CB:
    /* Process context: the current task owns the socket. */
    note_app(skops);
    return 1;
  case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
  case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
    /* Ask for a callback at every RTT sample of this connection. */
    bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_RTT_CB_FLAG);
    app = app_of(skops);
    totals = counter(&rtt_by_app, &app, &zero_totals);
    if (totals)
      totals->connections++;
    return 1;
  case BPF_SOCK_OPS_RTT_CB:
    break;
  default:
    return 1;
  }

  /* srtt_us is the kernel's smoothed RTT in µs, scaled by 8. */
  us = skops->srtt_us >> 3;
  app = app_of(skops);
  key.cgroup = app;
  key.bucket = bucket_of(us);
  count = counter(&rtt_histogram, &key, &zero);
  if (count)
    count->samples++;
  totals = counter(&rtt_by_app, &app, &zero_totals);
  if (totals) {
    totals->samples++;
    totals->sum_us += us;
  }
  return 1;
}
