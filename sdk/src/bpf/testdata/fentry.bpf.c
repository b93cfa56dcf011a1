// SPDX-License-Identifier: GPL-2.0
/* An fentry program: must be refused cleanly where the kernel forbids tracing programs. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("fentry/do_nanosleep")
int BPF_PROG(on_nanosleep_entry)
{
	return 0;
}
