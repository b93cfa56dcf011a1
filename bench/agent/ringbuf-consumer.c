// The reference consumer: libbpf's ring_buffer__poll on a pinned ring buffer for N seconds, counting samples.
// Prints {"records": n, "cpuSeconds": s} (user + system CPU of this process) as one JSON line.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static unsigned long long records;

static int on_sample(void *ctx, void *data, size_t size)
{
	records++;
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s <pinned ringbuf> <seconds>\n", argv[0]);
		return 2;
	}
	int fd = bpf_obj_get(argv[1]);
	if (fd < 0) {
		perror("bpf_obj_get");
		return 1;
	}
	struct ring_buffer *rb = ring_buffer__new(fd, on_sample, NULL, NULL);
	if (!rb) {
		perror("ring_buffer__new");
		return 1;
	}
	double end = now() + atof(argv[2]);
	printf("ready\n");
	fflush(stdout);
	while (now() < end)
		ring_buffer__poll(rb, 50);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	printf("{\"records\": %llu, \"cpuSeconds\": %.4f}\n", records, cpu);
	ring_buffer__free(rb);
	return 0;
}
