// SPDX-License-Identifier: GPL-2.0
/* Sees every exec (tp_btf). Loader removal and drift test program. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sched_process_exec")
int kind_tp_btf(void *ctx)
{
	return 0;
}
