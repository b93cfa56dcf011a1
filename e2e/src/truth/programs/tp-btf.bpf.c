// SPDX-License-Identifier: GPL-2.0
/* A tp_btf program on exec that only counts: the tp_btf case of the removal test. */
#include "hits.h"
#include <bpf/bpf_tracing.h>

SEC("tp_btf/sched_process_exec")
int BPF_PROG(h7t_tp_btf, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	hit();
	return 0;
}
