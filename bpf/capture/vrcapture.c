// SPDX-License-Identifier: Apache-2.0
/*
 * vrcapture: a development tool, not part of the product. Loads bpf/veriruntime.bpf.o with libbpf,
 * attaches every program, and writes each ring-buffer record as one binary file (the decoder's test
 * fixtures are captured this way) while printing a one-line summary of it.
 *
 *   vrcapture OBJECT OUTDIR SECONDS [COMMAND ARGS...]
 *
 * COMMAND, if given, is started once the probe is attached; records of other processes are kept
 * too. Environment, to exercise the probe's settings and counters:
 *   VR_AGENT_TGID=N     written into the probe's vr_agent_tgid before load (N's events are ignored)
 *   VR_RINGBUF_BYTES=N  ring-buffer size set with bpf_map__set_max_entries before load
 *   VR_STALL=1          do not read the ring buffer until COMMAND ends (forces losses)
 *   VR_QUIET=1          do not write or print records, only the counters
 *   VR_WATCH=PATH       put PATH's identity (dev, ino) into vr_watched_files after load, with the
 *                       reasons VR_WATCH_VERIFIED | VR_WATCH_MAPPED_EXEC
 * Build: cc -O2 -o vrcapture vrcapture.c -lbpf
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <linux/types.h>
#include "../veriruntime.h"

static const char *out_dir;
static int count;
static int quiet;

static int on_record(void *ctx, void *data, size_t size)
{
	const struct vr_header *h = data;
	char name[512];
	FILE *f;

	if (quiet) {
		count++;
		return 0;
	}
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
	} else if (h->kind == VR_KIND_FILE_WRITE) {
		const struct vr_file_write *e = data;
		printf(" op=%u fd=%d arg=%llx watch=%u path=%s ino=%llu size=%lld writer_ino=%llu",
		       e->operation, e->fd, (unsigned long long)e->arg, e->watch, e->path,
		       (unsigned long long)e->file.ino, (long long)e->file.size,
		       (unsigned long long)e->writer.ino);
	} else if (h->kind == VR_KIND_INJECTION) {
		const struct vr_injection *e = data;
		printf(" technique=%u target=%d request=%lld count=%llu", e->technique, e->target_pid,
		       (long long)e->request, (unsigned long long)e->count);
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
	quiet = getenv("VR_QUIET") != NULL;
	if (getenv("VR_RINGBUF_BYTES"))
		bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "vr_events"),
					 strtoul(getenv("VR_RINGBUF_BYTES"), NULL, 0));
	if (getenv("VR_AGENT_TGID")) {
		struct bpf_map *rodata = NULL, *m;
		size_t size;

		bpf_object__for_each_map(m, obj) {
			if (strstr(bpf_map__name(m), ".rodata"))
				rodata = m;
		}
		/* vr_agent_tgid is at offset 0 of .rodata (WireFormat.Config.AGENT_TGID). */
		__u32 *values = rodata ? (__u32 *)bpf_map__initial_value(rodata, &size) : NULL;
		if (!values) {
			fprintf(stderr, "no .rodata map\n");
			return 1;
		}
		values[0] = strtoul(getenv("VR_AGENT_TGID"), NULL, 0);
	}
	/* The per-syscall pair (a bare "tracepoint" section) is attached by the agent to each syscall
	 * it watches; this tool uses the raw pair, which needs no list and no tracefs. */
	bpf_object__for_each_program(prog, obj) {
		if (!strcmp(bpf_program__section_name(prog), "tracepoint"))
			bpf_program__set_autoload(prog, false);
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "load failed\n");
		return 1;
	}
	if (getenv("VR_WATCH")) {
		struct stat st;
		struct vr_watch_key key = {};
		__u32 reasons = VR_WATCH_VERIFIED | VR_WATCH_MAPPED_EXEC;

		if (stat(getenv("VR_WATCH"), &st)) {
			perror(getenv("VR_WATCH"));
			return 1;
		}
		key.dev = ((__u64)major(st.st_dev) << 20) | minor(st.st_dev);
		key.ino = st.st_ino;
		if (bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "vr_watched_files")),
					&key, &reasons, BPF_ANY)) {
			perror("vr_watched_files");
			return 1;
		}
	}
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__autoload(prog))
			continue;
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
	if (child > 0 && getenv("VR_STALL"))
		waitpid(child, NULL, 0);
	end = time(NULL) + atoi(argv[3]);
	while (time(NULL) < end)
		ring_buffer__poll(rb, 100);
	if (child > 0)
		waitpid(child, NULL, WNOHANG);
	ring_buffer__consume(rb);
	fprintf(stderr, "records read: %d\n", count);

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
