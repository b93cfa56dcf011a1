/* SPDX-License-Identifier: GPL-2.0 */
/* Shared layouts of the loader's test programs. */
#ifndef BPFLEET_TEST_COUNTERS_H
#define BPFLEET_TEST_COUNTERS_H

#define ETH_P_IP 0x0800
#define IPPROTO_ICMP_ 1
#define ICMP_ECHO_ 8
#define TC_ACT_UNSPEC_ (-1)

struct exec_event {
	__u32 pid;
	__u32 tag;
	char comm[16];
};

#endif
