/*
 * The wake-up floor (benchmarks/wakeup-floor.sh): the least a user-space reader can wait for an
 * exec record. Loads floor.bpf.o, makes itself a real-time thread (SCHED_FIFO 1, as the agent's
 * ring reader), waits on the ring with epoll (libbpf's ring_buffer__poll) and takes the time of
 * each record's arrival in its callback, nothing else.
 *   floor OBJECT N   prints "ready" once attached, then after N records one line:
 *                    "all N P50 P90 P99 same N P50 other N P50" (µs from the kernel's exec time;
 *                    same/other: the record was read on the CPU the exec ran on, or the other one)
 */
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct floor_record {
	unsigned long long ktime_ns;
	unsigned int cpu;
	unsigned int pid;
};

#define MAX_RECORDS 100000
static double all[MAX_RECORDS], same[MAX_RECORDS], other[MAX_RECORDS];
static int n_all, n_same, n_other;

static int on_record(void *ctx, void *data, size_t size)
{
	const struct floor_record *r = data;
	struct timespec now;
	double us;

	(void)ctx;
	(void)size;
	clock_gettime(CLOCK_MONOTONIC, &now);
	us = ((unsigned long long)now.tv_sec * 1000000000ULL + now.tv_nsec - r->ktime_ns) / 1000.0;
	if (n_all < MAX_RECORDS) {
		all[n_all++] = us;
		if ((unsigned int)sched_getcpu() == r->cpu)
			same[n_same++] = us;
		else
			other[n_other++] = us;
	}
	return 0;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile of the first n values (sorted here), or -1 without any. */
static double quantile(double *v, int n, double q)
{
	if (n == 0)
		return -1;
	qsort(v, n, sizeof(double), by_value);
	return v[(int)(q * (n - 1) + 0.5)];
}

int main(int argc, char **argv)
{
	struct sched_param rt = { .sched_priority = 1 };
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct ring_buffer *ring;
	int want;

	if (argc != 3 || (want = atoi(argv[2])) < 1 || want > MAX_RECORDS) {
		fprintf(stderr, "usage: floor OBJECT N (1..%d)\n", MAX_RECORDS);
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "floor: cannot load %s\n", argv[1]);
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, "floor_exec");
	if (!prog || !bpf_program__attach(prog)) {
		fprintf(stderr, "floor: cannot attach to sched_process_exec\n");
		return 1;
	}
	ring = ring_buffer__new(bpf_object__find_map_fd_by_name(obj, "records"), on_record, NULL, NULL);
	if (!ring) {
		fprintf(stderr, "floor: cannot open the ring buffer\n");
		return 1;
	}
	if (sched_setscheduler(0, SCHED_FIFO, &rt) != 0) {
		fprintf(stderr, "floor: cannot run real-time (SCHED_FIFO 1)\n");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (n_all < want) {
		if (ring_buffer__poll(ring, 1000) < 0) {
			fprintf(stderr, "floor: polling the ring failed\n");
			return 1;
		}
	}
	printf("all %d %.1f %.1f %.1f same %d %.1f other %d %.1f\n", n_all, quantile(all, n_all, 0.5),
	       quantile(all, n_all, 0.9), quantile(all, n_all, 0.99), n_same, quantile(same, n_same, 0.5),
	       n_other, quantile(other, n_other, 0.5));
	ring_buffer__free(ring);
	bpf_object__close(obj);
	return 0;
}
