// SPDX-License-Identifier: Apache-2.0
/*
 * syscall_loop: a syscall-heavy load for benchmarks/syscall-cost.sh. Runs one workload for a
 * number of iterations and prints the CPU nanoseconds per syscall it spent, user and system
 * (CLOCK_PROCESS_CPUTIME_ID): on a shared machine, time spent descheduled would otherwise be
 * counted as the syscalls' cost.
 *
 *   syscall_loop getppid|read|mixed ITERATIONS SCRATCH_FILE
 *
 * getppid  one getppid(2) per iteration: the cheapest syscall, so the hook's cost shows most.
 * read     one 64-byte read(2) from /dev/zero.
 * mixed    ten syscalls per iteration, among them the ones the probe looks at more closely without
 *          reporting anything: getppid, read /dev/zero, write /dev/null, openat read-only + close,
 *          fstat, mmap (no PROT_EXEC) + munmap, openat of SCRATCH_FILE for writing (an unwatched
 *          file: fd resolution and one map lookup in the probe) + close.
 * Build: cc -O2 -o syscall_loop syscall_loop.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void must(long ok, const char *what)
{
	if (ok < 0) {
		perror(what);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	char buf[64];
	struct stat st;
	long long start, elapsed;
	long iterations, per_iteration;
	int zero, null;

	if (argc != 4) {
		fprintf(stderr, "usage: %s getppid|read|mixed ITERATIONS SCRATCH_FILE\n", argv[0]);
		return 2;
	}
	iterations = atol(argv[2]);
	zero = open("/dev/zero", O_RDONLY);
	null = open("/dev/null", O_WRONLY);
	must(zero, "/dev/zero");
	must(null, "/dev/null");
	must(close(open(argv[3], O_WRONLY | O_CREAT, 0600)), argv[3]);

	start = now_ns();
	if (strcmp(argv[1], "getppid") == 0) {
		per_iteration = 1;
		for (long i = 0; i < iterations; i++)
			syscall(SYS_getppid);
	} else if (strcmp(argv[1], "read") == 0) {
		per_iteration = 1;
		for (long i = 0; i < iterations; i++)
			must(read(zero, buf, sizeof(buf)), "read");
	} else if (strcmp(argv[1], "mixed") == 0) {
		per_iteration = 10;
		for (long i = 0; i < iterations; i++) {
			int fd;
			void *p;

			syscall(SYS_getppid);
			must(read(zero, buf, sizeof(buf)), "read");
			must(write(null, buf, sizeof(buf)), "write");
			fd = open("/etc/hostname", O_RDONLY);
			must(fd, "/etc/hostname");
			must(fstat(fd, &st), "fstat");
			must(close(fd), "close");
			p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				must(-1, "mmap");
			must(munmap(p, 4096), "munmap");
			fd = open(argv[3], O_WRONLY);
			must(fd, argv[3]);
			must(close(fd), "close");
		}
	} else {
		fprintf(stderr, "unknown workload %s\n", argv[1]);
		return 2;
	}
	elapsed = now_ns() - start;
	printf("%.1f\n", (double)elapsed / ((double)iterations * per_iteration));
	return 0;
}
