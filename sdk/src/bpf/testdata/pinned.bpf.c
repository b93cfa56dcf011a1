// SPDX-License-Identifier: GPL-2.0
/* A socket filter with a map pinned by name, for pin-path reuse and map operation tests. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} shared_state SEC(".maps");

SEC("socket")
int keep_all(struct __sk_buff *skb)
{
	__u32 key = skb->len;
	__u64 seen = 1;

	/* Remember which lengths were seen; keep the whole packet. */
	bpf_map_update_elem(&shared_state, &key, &seen, BPF_ANY);
	return skb->len;
}
