// SPDX-License-Identifier: GPL-2.0
/* A raw_tp program on exec that only counts: the raw_tp case of the removal test. */
#include "hits.h"

SEC("raw_tp/sched_process_exec")
int h7t_raw_tp(void *ctx)
{
	hit();
	return 0;
}
