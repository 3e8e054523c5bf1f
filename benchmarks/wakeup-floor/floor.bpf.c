// SPDX-License-Identifier: GPL-2.0
/*
 * The wake-up floor's probe (benchmarks/wakeup-floor.sh): for every exec of a program whose name
 * starts with "calm-", one record with the kernel's time at the exec, submitted with a forced
 * wake-up, at the tracepoint and with the clock the agent's probe uses for its exec records.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct floor_record {
	__u64 ktime_ns;
	__u32 cpu;
	__u32 pid;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} records SEC(".maps");

SEC("tp_btf/sched_process_exec")
int floor_exec(__u64 *ctx)
{
	char comm[16];
	struct floor_record *r;

	bpf_get_current_comm(comm, sizeof(comm));
	if (comm[0] != 'c' || comm[1] != 'a' || comm[2] != 'l' || comm[3] != 'm' || comm[4] != '-')
		return 0;
	r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);
	if (!r)
		return 0;
	r->ktime_ns = bpf_ktime_get_ns();
	r->cpu = bpf_get_smp_processor_id();
	r->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_ringbuf_submit(r, BPF_RB_FORCE_WAKEUP);
	return 0;
}
