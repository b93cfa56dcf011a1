/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Types shared by app-traffic.bpf.c and the tools that read its map. */
#ifndef APP_TRAFFIC_H
#define APP_TRAFFIC_H

/* Traffic of one cgroup (one app), summed over CPUs by the reader. */
struct app_counters {
  __u64 rx_bytes;
  __u64 rx_packets;
  __u64 tx_bytes;
  __u64 tx_packets;
};

#endif
