// SPDX-License-Identifier: GPL-2.0
/* A libbpf-bootstrap-style exec tracer: one ring buffer record per exec; failed reserves counted. E2E program. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct exec_event {
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__u32 pad;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} exec_events SEC(".maps");

/* Records the ring had no room for. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} exec_lost SEC(".maps");

SEC("tp_btf/sched_process_exec")
int BPF_PROG(trace_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct exec_event *e;
	__u32 zero = 0;
	__u64 *lost;

	/* Reserve first: a full ring is counted, never silent. */
	e = bpf_ringbuf_reserve(&exec_events, sizeof(*e), 0);
	if (!e) {
		lost = bpf_map_lookup_elem(&exec_lost, &zero);
		if (lost)
			*lost += 1;
		return 0;
	}
	e->pid = BPF_CORE_READ(p, tgid);
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->pad = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
