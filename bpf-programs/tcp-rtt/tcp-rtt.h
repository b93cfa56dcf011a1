/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Types shared by tcp-rtt.bpf.c and the tools that read its maps. */
#ifndef TCP_RTT_H
#define TCP_RTT_H

#define RTT_BUCKETS 32

/* One histogram bucket of one app: bucket b counts samples of [2^(b-1), 2^b) µs, bucket 0 under 1 µs. */
struct rtt_bucket_key {
  __u64 cgroup;
  __u32 bucket;
};

struct rtt_count {
  __u64 samples;
};

/* Per app: connections established, RTT samples, and their sum (for the mean). */
struct rtt_totals {
  __u64 connections;
  __u64 samples;
  __u64 sum_us;
};

#endif
