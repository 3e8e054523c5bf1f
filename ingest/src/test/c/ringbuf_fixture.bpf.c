// SPDX-License-Identifier: GPL-2.0
// Test-only BPF object for the libbpf binding (dev.veriruntime.ingest.kernel). It is NOT the
// product probe: it exists so the binding can be tested without the real probe. Rebuild with
// ./build-fixture.sh; the object is committed so tests need no clang.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* Load-time settings, patched through the .rodata initial value before load. */
const volatile __u32 ignore_tgid = 0;
const volatile __u64 fixture_magic = 0;

/* Wire record: struct fixture_record, 40 bytes, little endian. */
struct fixture_record {
	__u64 ktime_ns;
	__u64 magic;
	__u32 tgid;
	__u32 pid;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* raw_tp needs no tracefs (tp/ resolves the event id through /sys/kernel/tracing). */
SEC("raw_tp/sched_process_exec")
int fixture_exec(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	if (tgid == ignore_tgid)
		return 0;
	struct fixture_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		__u32 zero = 0;
		__u64 *n = bpf_map_lookup_elem(&lost, &zero);
		if (n)
			__sync_fetch_and_add(n, 1);
		return 0;
	}
	r->ktime_ns = bpf_ktime_get_ns();
	r->magic = fixture_magic;
	r->tgid = tgid;
	r->pid = (__u32)id;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	bpf_ringbuf_submit(r, 0);
	return 0;
}

/* Refused on this class of host (fentry attach is EPERM): exercises "report, don't die". */
SEC("fentry/do_exit")
int fixture_optional_fentry(void *ctx)
{
	return 0;
}
