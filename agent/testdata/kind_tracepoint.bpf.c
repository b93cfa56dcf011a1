// SPDX-License-Identifier: GPL-2.0
/* Sees every exec (tracepoint). Loader removal and drift test program. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/sched/sched_process_exec")
int kind_tracepoint(void *ctx)
{
	return 0;
}
