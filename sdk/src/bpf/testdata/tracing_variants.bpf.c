// SPDX-License-Identifier: GPL-2.0
/* bcc libbpf-tools style (runqlat): each scheduler handler twice, as tp_btf and as a raw_tp fallback. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

/* Slots: 0 wakeups, 1 new-task wakeups, 2 switches. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} h1c_sched SEC(".maps");

static __always_inline int count(__u32 key)
{
	__u64 *slot = bpf_map_lookup_elem(&h1c_sched, &key);

	if (slot)
		*slot += 1;
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(h1c_wake_btf, struct task_struct *p)
{
	return count(0);
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(h1c_wake_raw, struct task_struct *p)
{
	return count(0);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(h1c_wnew_btf, struct task_struct *p)
{
	return count(1);
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(h1c_wnew_raw, struct task_struct *p)
{
	return count(1);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(h1c_swch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return count(2);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(h1c_swch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return count(2);
}
