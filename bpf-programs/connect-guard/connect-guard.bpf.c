// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Per-app destination allow-list on connect(): guarded cgroups may only connect where their rules allow. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "connect-guard.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Refuse denied connects (EPERM); when false, only count them (a dry run before enforcing a policy). */
const volatile bool enforce = true;
/* Look the app up by the ancestor cgroup at this level; 0 uses the caller's own cgroup. */
const volatile __u32 cgroup_level = 0;

/* Guarded cgroups: cgroup id → app id. Cgroups not in here are not restricted. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u64);
  __type(value, __u32);
} guarded_apps SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct guard_rule);
  __type(value, struct guard_allow);
} allow_rules SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64);
  __type(value, struct guard_counters);
} connects SEC(".maps");

static __always_inline void count(__u64 cgroup, bool allowed)
{
  struct guard_counters *c, zero = {};

  c = bpf_map_lookup_elem(&connects, &cgroup);
  if (!c) {
    /* First connect of this cgroup: insert, then count into this CPU's slot. */
    bpf_map_update_elem(&connects, &cgroup, &zero, BPF_NOEXIST);
    c = bpf_map_lookup_elem(&connects, &cgroup);
    if (!c)
      return;
  }
  if (allowed)
    c->allowed++;
  else
    c->denied++;
}

/* 1 lets connect() go on, 0 makes it fail with EPERM. */
static __always_inline int check(struct guard_rule *rule, __u16 port)
{
  __u64 cgroup = cgroup_level ? bpf_get_current_ancestor_cgroup_id(cgroup_level) : bpf_get_current_cgroup_id();
  struct guard_allow *allow;
  __u32 *app;

  /* Unguarded apps connect anywhere. */
  app = bpf_map_lookup_elem(&guarded_apps, &cgroup);
  if (!app) {
    count(cgroup, true);
    return 1;
  }
  /* The longest rule of this app covering the destination decides; its port 0 means any port. */
  rule->prefixlen = 32 + 128;
  rule->app = *app;
  allow = bpf_map_lookup_elem(&allow_rules, rule);
  if (allow && (allow->port == 0 || allow->port == port)) {
    count(cgroup, true);
    return 1;
  }
  count(cgroup, false);
  return enforce ? 0 : 1;
}

SEC("cgroup/connect4")
int guard_connect4(struct bpf_sock_addr *ctx)
{
  struct guard_rule rule = {};
  __u32 ip4 = ctx->user_ip4;

  /* IPv4 destinations are matched as IPv4-mapped IPv6, like IPv4 on a dual-stack socket. */
  rule.addr[10] = 0xff;
  rule.addr[11] = 0xff;
  __builtin_memcpy(&rule.addr[12], &ip4, 4);
  return check(&rule, bpf_ntohs((__u16)ctx->user_port));
}

SEC("cgroup/connect6")
int guard_connect6(struct bpf_sock_addr *ctx)
{
  struct guard_rule rule = {};
  __u32 ip6[4];

  /* The context allows only 4-byte reads of the address. */
  ip6[0] = ctx->user_ip6[0];
  ip6[1] = ctx->user_ip6[1];
  ip6[2] = ctx->user_ip6[2];
  ip6[3] = ctx->user_ip6[3];
  __builtin_memcpy(rule.addr, ip6, 16);
  return check(&rule, bpf_ntohs((__u16)ctx->user_port));
}
