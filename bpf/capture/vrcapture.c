// SPDX-License-Identifier: Apache-2.0
/*
 * vrcapture: a development tool, not part of the product. Loads bpf/veriruntime.bpf.o with libbpf,
 * attaches every program, and writes each ring-buffer record as one binary file (the decoder's test
 * fixtures are captured this way) while printing a one-line summary of it.
 *
 *   vrcapture OBJECT OUTDIR SECONDS [COMMAND ARGS...]
 *
 * COMMAND, if given, is started once the probe is attached; records of other processes are kept
 * too. Build: cc -O2 -o vrcapture vrcapture.c -lbpf
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <linux/types.h>
#include "../veriruntime.h"

static const char *out_dir;
static int count;

static int on_record(void *ctx, void *data, size_t size)
{
	const struct vr_header *h = data;
	char name[512];
	FILE *f;

	snprintf(name, sizeof(name), "%s/%05d-kind%u.bin", out_dir, count++, h->kind);
	f = fopen(name, "wb");
	if (!f || fwrite(data, 1, size, f) != size) {
		perror(name);
		exit(1);
	}
	fclose(f);
	printf("%s size=%zu kind=%u pid=%u tgid=%u comm=%.16s", name, size, h->kind, h->pid, h->tgid,
	       h->comm);
	if (h->kind == VR_KIND_EXEC) {
		const struct vr_exec *e = data;
		printf(" filename=%s path=%s dev=%llx ino=%llu flags=%x", e->filename, e->path,
		       (unsigned long long)e->file.dev, (unsigned long long)e->file.ino, e->file.flags);
	} else if (h->kind == VR_KIND_EXEC_MAPPING) {
		const struct vr_exec_mapping *e = data;
		printf(" path=%s src=%u off=%llu flags=%x", e->path, e->source,
		       (unsigned long long)e->offset, e->file.flags);
	} else if (h->kind == VR_KIND_EXIT) {
		printf(" exit_code=%d", ((const struct vr_exit *)data)->exit_code);
	}
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct ring_buffer *rb;
	time_t end;
	pid_t child = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: %s OBJECT OUTDIR SECONDS [COMMAND ARGS...]\n", argv[0]);
		return 2;
	}
	out_dir = argv[2];
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		perror("open");
		return 1;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "load failed\n");
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__attach(prog)) {
			fprintf(stderr, "attach %s failed: %s\n", bpf_program__name(prog), strerror(errno));
			return 1;
		}
		fprintf(stderr, "attached %s (%s)\n", bpf_program__name(prog),
			bpf_program__section_name(prog));
	}
	rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "vr_events")), on_record,
			      NULL, NULL);
	if (!rb) {
		perror("ring_buffer__new");
		return 1;
	}
	if (argc > 4) {
		child = fork();
		if (child == 0) {
			execvp(argv[4], argv + 4);
			_exit(127);
		}
	}
	end = time(NULL) + atoi(argv[3]);
	while (time(NULL) < end)
		ring_buffer__poll(rb, 100);
	if (child > 0)
		waitpid(child, NULL, WNOHANG);
	ring_buffer__consume(rb);

	int ncpu = libbpf_num_possible_cpus();
	struct vr_counter values[ncpu];
	int cfd = bpf_map__fd(bpf_object__find_map_by_name(obj, "vr_counters"));
	for (__u32 kind = 1; kind < VR_KIND_MAX; kind++) {
		unsigned long long seen = 0, lost = 0;
		if (bpf_map_lookup_elem(cfd, &kind, values))
			continue;
		for (int i = 0; i < ncpu; i++) {
			seen += values[i].seen;
			lost += values[i].lost;
		}
		fprintf(stderr, "kind %u: seen %llu lost %llu\n", kind, seen, lost);
	}
	ring_buffer__free(rb);
	bpf_object__close(obj);
	return 0;
}
