// SPDX-License-Identifier: GPL-2.0
/*
 * Empty programs on the probe's two raw syscall tracepoints, for benchmarks/syscall-cost.sh: what
 * any sys_enter/sys_exit hook costs (the kernel's syscall tracepoint path and the BPF program
 * call) before the probe's own dispatch runs.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* Never written: only there because the loader (bpf/capture/vrcapture) reads the probe's ring. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} vr_events SEC(".maps");

SEC("tp_btf/sys_enter")
int empty_sys_enter(__u64 *ctx)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int empty_sys_exit(__u64 *ctx)
{
	return 0;
}
