// SPDX-License-Identifier: GPL-2.0
/* A tracepoint program on exec that only counts: the tracepoint case of the removal test. */
#include "hits.h"

SEC("tracepoint/sched/sched_process_exec")
int h7t_tracepoint(void *ctx)
{
	hit();
	return 0;
}
