// SPDX-License-Identifier: GPL-2.0
/* What every removal-test program shares: a license and a one-slot hit counter (a map to see removed). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline void hit(void)
{
	__u32 key = 0;
	__u64 *slot = bpf_map_lookup_elem(&hits, &key);

	if (slot)
		__sync_fetch_and_add(slot, 1);
}
