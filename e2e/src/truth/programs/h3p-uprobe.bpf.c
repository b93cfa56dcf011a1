// SPDX-License-Identifier: GPL-2.0
/* A uprobe that counts getpid calls: a kprobe-type program that attaches without kprobes (the host-probe case). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

SEC("uprobe/libc.so.6:getpid")
int BPF_KPROBE(h3p_uprobe)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&calls, &key);

	/* Count every call. */
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}
