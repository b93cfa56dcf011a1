// SPDX-License-Identifier: Apache-2.0
/* The floor for the loader benchmark: open from memory, load and attach XDP with libbpf, once per input line. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <net/if.h>
#include <bpf/libbpf.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s <obj> <iface>\n", argv[0]);
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f)
		return 1;
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc(size);
	if (fread(buf, 1, size, f) != (size_t)size)
		return 1;
	fclose(f);
	int ifindex = if_nametoindex(argv[2]);
	char line[64];

	libbpf_set_print(quiet);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* The driver sends one line per iteration so contenders alternate and share the machine's noise. */
	while (fgets(line, sizeof(line), stdin)) {
		double t0 = now_us();
		struct bpf_object *obj = bpf_object__open_mem(buf, size, NULL);
		if (!obj || bpf_object__load(obj))
			return 1;
		struct bpf_program *prog = bpf_object__next_program(obj, NULL);
		struct bpf_link *link = bpf_program__attach_xdp(prog, ifindex);
		if (!link)
			return 1;
		double t1 = now_us();
		bpf_link__destroy(link);
		bpf_object__close(obj);
		printf("%.1f\n", t1 - t0);
	}
	free(buf);
	return 0;
}
