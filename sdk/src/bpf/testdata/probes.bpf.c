// SPDX-License-Identifier: GPL-2.0
/* A kprobe program: loads on kernels with kprobes, and must be refused cleanly where they are off. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("kprobe/do_nanosleep")
int BPF_KPROBE(on_nanosleep)
{
	return 0;
}
