// SPDX-License-Identifier: GPL-2.0
/* v2 of acme/h7t-pings: the XDP program plus a tcx ingress program that counts every packet it passes. */
#include "pings.h"

SEC("tcx/ingress")
int h7t_tcx(struct __sk_buff *skb)
{
	count(1);
	return TCX_NEXT;
}
