// SPDX-License-Identifier: GPL-2.0
/*
 * VeriRuntime kernel probe: reports every exec, process exit, executable mapping, anonymous
 * executable memory and code-injection signal into one ring buffer, as the records defined in
 * veriruntime.h. Read-only: it observes, never blocks.
 *
 * BTF-typed raw tracepoints (tp_btf) are used: they attach without tracefs, which a fresh host does
 * not mount, and fentry, LSM and kprobes are not available on the target hosts. The syscalls of
 * interest are hooked on their own tracepoints (syscalls/sys_{enter,exit}_NAME), which the agent
 * finds through a tracefs of its own, or else picked from the two raw syscall tracepoints, which
 * fire for every syscall on the host (see the end of this file). Kernel structs are read with
 * CO-RE (vr_kernel.h), so one object runs on any kernel with BTF.
 */
#include "vr_kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "veriruntime.h"

char LICENSE[] SEC("license") = "GPL";

/* Load-time settings, written by Java into .rodata before load; the verifier then prunes the
 * disabled paths as dead code. */
const volatile __u32 vr_agent_tgid = 0;    /* our own process: its events are not reported */
const volatile __u32 vr_trace_mmap = 1;    /* mmap/mprotect programs report anything */
const volatile __u32 vr_trace_injection = 1;
const volatile __u32 vr_trace_writes = 1;  /* writes into files in vr_watched_files */
const volatile __u32 vr_trace_lineage = 0; /* files written by toolchain processes (build lineage) */

#define VR_RINGBUF_DEFAULT_BYTES (16 * 1024 * 1024)
#define VR_PATH_DEPTH 48 /* dentries plus mount crossings walked per path */
#define VR_PENDING_MAX 16384

/* Wake-ups: an exit record is only bookkeeping for the agent, so it never wakes the reader (which
 * picks quiet records up with the next wake-up, or after its poll timeout). That halves the
 * wake-ups of an exec storm. A toolchain write is quiet too: lineage needs it before the exec of
 * the file written, and that exec's record, which wakes the reader, comes after it in the ring (a
 * third of a build's wake-ups under a lineage root). Every other record wakes the reader
 * unconditionally: the kernel's default ("only if the reader has consumed everything") would stay
 * silent behind a quiet record. */
#define VR_QUIET BPF_RB_NO_WAKEUP
#define VR_WAKE BPF_RB_FORCE_WAKEUP
#define VR_VERIFIED_MAX 8192
#define VR_WATCHED_MAX 16384
#define VR_TOOLCHAIN_EXES_MAX 4096
#define VR_TOOLCHAIN_TASKS_MAX 16384
/* Processes that started quietly and were not adopted yet: the agent adopts them within about a
 * second, so this holds about two seconds of a storm's execs. */
#define VR_QUIET_TASKS_MAX 65536
/* Files being written by running toolchain processes; also the buckets bpf_for_each_map_elem
 * visits when a process that opened more than VR_TOOLCHAIN_SLOTS of them is done, so kept small. */
#define VR_LINEAGE_PENDING_MAX 8192
/* Files a toolchain process opened for writing that it remembers itself (vr_toolchain_files), so
 * that its end looks up those instead of visiting every bucket of vr_lineage_pending (about 200 µs
 * per toolchain process at 8,192 buckets, for the gcc, cc1, as, collect2 and ld of each compile). */
#define VR_TOOLCHAIN_SLOTS 8
/* Processes the agent follows and their descendants, at once: a build's processes alive at the same
 * time, or those of a few processes with an open incident, are far fewer. */
#define VR_FOLLOW_TASKS_MAX 16384
#define VR_FOLLOW_EXES_MAX 1024
/* Forks not exec'd yet: a storm's or a build's forks alive at once, with room to spare. */
#define VR_UNTRACKED_TASKS_MAX 65536
#define S_IFMT 0170000
#define S_IFREG 0100000

#define PROT_EXEC 0x4
#define MAP_ANONYMOUS 0x20
#define VM_EXEC 0x4
#define S_ISUID 04000
#define S_ISGID 02000
#define TMPFS_MAGIC 0x01021994
#define HUGETLBFS_MAGIC 0x958458f6
#define MAX_ERRNO 4095
#define E2BIG 7
#define PROC_SUPER_MAGIC 0x9fa0
#define FMODE_WRITE 0x2
#define O_ACCMODE 03
#define O_WRONLY 01
#define O_CREAT 0100
#define O_TRUNC 01000
#define TS_COMPAT 0x0002

/*
 * Syscall numbers of the native ABI and the registers that carry the arguments. At sys_exit the
 * argument registers still hold what the syscall was called with (nothing runs between the two
 * tracepoints but the syscall), except arm64's x0, which then holds the return value.
 */
#if defined(__TARGET_ARCH_x86)
#define NR_open 2
#define NR_write 1
#define NR_pwrite64 18
#define NR_writev 20
#define NR_pwritev 296
#define NR_pwritev2 328
#define NR_mmap 9
#define NR_mprotect 10
#define NR_ftruncate 77
#define NR_creat 85
#define NR_ptrace 101
#define NR_openat 257
#define NR_process_vm_writev 311
#define NR_memfd_create 319
#define NR_openat2 437
#define SYSCALL_NR(r) ((r)->orig_ax)
#define ARG0(r) ((r)->di)
#define ARG1(r) ((r)->si)
#define ARG2(r) ((r)->dx)
#define ARG3(r) ((r)->r10)
#define ARG4(r) ((r)->r8)
#define ARG5(r) ((r)->r9)
#elif defined(__TARGET_ARCH_arm64)
/* arm64 has neither open nor creat: only openat */
#define NR_write 64
#define NR_pwrite64 68
#define NR_writev 66
#define NR_pwritev 70
#define NR_pwritev2 287
#define NR_mmap 222
#define NR_mprotect 226
#define NR_ftruncate 46
#define NR_ptrace 117
#define NR_openat 56
#define NR_process_vm_writev 271
#define NR_memfd_create 279
#define NR_openat2 437
#define SYSCALL_NR(r) ((r)->syscallno)
#define ARG0(r) ((r)->orig_x0)
#define ARG1(r) ((r)->regs[1])
#define ARG2(r) ((r)->regs[2])
#define ARG3(r) ((r)->regs[3])
#define ARG4(r) ((r)->regs[4])
#define ARG5(r) ((r)->regs[5])
#else
#error "syscall numbers and argument registers are defined for x86 and arm64 only"
#endif

#define PTRACE_POKETEXT 4
#define PTRACE_POKEDATA 5
#define PTRACE_POKEUSER 6
#define PTRACE_SETREGS 13
#define PTRACE_SETFPREGS 15
#define PTRACE_ATTACH 16
#define PTRACE_SETREGSET 0x4205
#define PTRACE_SEIZE 0x4206

/* Java may resize it with bpf_map__set_max_entries before load (power of two, page multiple). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VR_RINGBUF_DEFAULT_BYTES);
} vr_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VR_KIND_MAX);
	__type(key, __u32);
	__type(value, struct vr_counter);
} vr_counters SEC(".maps");

/* mprotect adding PROT_EXEC, decided at sys_enter (afterwards the old protection is gone), per
 * thread. LRU: a thread killed inside the syscall never reaches sys_exit, and its entry must not
 * leak. Other syscalls need no state between entry and exit: their arguments are read from the
 * registers at exit. */
struct vr_pending_mprotect {
	__u64 addr;
	__u64 len;
	__u32 prot;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VR_PENDING_MAX);
	__type(key, __u32);
	__type(value, struct vr_pending_mprotect);
} vr_pending_mprotects SEC(".maps");

/* Files the agent has verified (VERIFIED, nothing to report). An mmap of one of them, still
 * linked and not a memfd, is counted in vr_filtered instead of reported: most executable
 * mappings on a busy host are the same few libraries, and each record costs the agent far more
 * than this lookup. The identity includes ctime and size, so a changed file is a new key. LRU:
 * the agent never has to evict, and an evicted file is just reported again. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VR_VERIFIED_MAX);
	__type(key, struct vr_file_key);
	__type(value, __u32);
} vr_verified_files SEC(".maps");

/* Executables the agent verified whose exec calls for nothing: an exec of one of them (still linked,
 * not a memfd, not a script, not a toolchain executable) sends no record; the process is remembered
 * in vr_quiet_tasks instead, and its exit sends none either. On a build server most execs are the
 * same verified shell, compiler driver and coreutils; each record costs the agent far more than
 * these lookups. The agent adopts quiet processes that live on (by reading /proc), so it still
 * re-attests every long-running process. LRU: an evicted file is simply reported again.
 * An entry with VR_QUIET_COUNT is an unknown executable whose repeats the agent folds into one
 * report (an exec storm): its execs are quiet the same way and counted in the entry. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VR_VERIFIED_MAX);
	__type(key, struct vr_file_key);
	__type(value, struct vr_quiet_exe);
} vr_quiet_exes SEC(".maps");

/* LRU: an entry evicted before adoption only means the exit record of that process is sent. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VR_QUIET_TASKS_MAX);
	__type(key, __u32);
	__type(value, struct vr_quiet_task);
} vr_quiet_tasks SEC(".maps");

/* What was not reported because the agent said it needs no report, by enum vr_filtered_key. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VR_FILTERED_KEYS);
	__type(key, __u32);
	__type(value, __u64);
} vr_filtered SEC(".maps");

/* Adds one to entry key of a per-CPU array of counters (vr_filtered, vr_task_counts). */
static __always_inline void count_in(void *counters, __u32 key)
{
	__u64 *n = bpf_map_lookup_elem(counters, &key);

	if (n)
		*n += 1;
}

/*
 * Followed processes: tgid -> enum vr_follow_reason bits. Every exec of a followed process is
 * reported, even of a quiet executable (so the agent has its exec record and lineage at once, not
 * a second later by adoption), and a child inherits the bits at fork without a round trip to the
 * agent (an incident's for VR_INCIDENT_GENERATIONS generations: enum vr_follow_generation). The
 * agent writes processes with an open incident; the probe adds build roots (execs of
 * vr_follow_exes) and toolchain processes when lineage is on, and children at fork. Entries go at
 * the process's exit. A plain hash, not LRU: a fork flood under a followed process must not evict
 * the followed process itself silently; a full map refuses the new entry, counted in
 * vr_task_counts[VR_TASKS_FOLLOW_DROPPED] (and the agent sees E2BIG).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VR_FOLLOW_TASKS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} vr_follow_tasks SEC(".maps");

/* Build roots (make, ninja, ...) the agent verified, by struct vr_file_key: an exec of one makes
 * the process followed (VR_FOLLOW_LINEAGE). Looked up only with vr_trace_lineage. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VR_FOLLOW_EXES_MAX);
	__type(key, struct vr_file_key);
	__type(value, __u32);
} vr_follow_exes SEC(".maps");

/* Processes forked after load that have not exec'd: the agent tracks no such process (its process
 * table learns of a process from its exec or from /proc), so their exit is counted, not reported.
 * LRU: an evicted entry only means that exit record is sent. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VR_UNTRACKED_TASKS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} vr_untracked_tasks SEC(".maps");

/* By enum vr_task_count: the probe's own bookkeeping of tasks and watched files. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VR_TASK_COUNTS);
	__type(key, __u32);
	__type(value, __u64);
} vr_task_counts SEC(".maps");

/* Files whose writes the agent wants to hear about at once (verified and cached, mapped
 * executable by a running process, or its own), keyed by dev and inode only: a write changes
 * ctime and size. The value (struct vr_watch) holds the agent's reasons, echoed in the record, and
 * the file's generation. A plain hash, not LRU: a watched file must never be evicted silently (the
 * agent sees E2BIG); an entry whose inode now holds another file goes at that file's first write. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VR_WATCHED_MAX);
	__type(key, struct vr_watch_key);
	__type(value, struct vr_watch);
} vr_watched_files SEC(".maps");

/* Build lineage. The agent puts the identities of verified toolchain executables (compilers,
 * assemblers, linkers) in vr_toolchain_exes; an exec of one marks the process in
 * vr_toolchain_tasks. A marked process's opens for writing of regular files are reported and
 * remembered in vr_lineage_pending until the process is done (exit, or exec of something else),
 * when each file's final identity is reported: the linker's chmod after close is then included.
 * Everyone else pays one lookup of vr_toolchain_tasks per open for writing. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VR_TOOLCHAIN_EXES_MAX);
	__type(key, struct vr_file_key);
	__type(value, __u32);
} vr_toolchain_exes SEC(".maps");

/* A marked process: how many regular files it opened for writing (atomically: threads) and how
 * many of them it put in its slots of vr_toolchain_files (not atomically: two threads may take the
 * same slot, and then the counts differ and its end visits all of vr_lineage_pending instead). */
struct vr_toolchain_task {
	__u32 opened;
	__u32 slots;
};

/* LRU: a process whose exit was missed must not leak an entry. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VR_TOOLCHAIN_TASKS_MAX);
	__type(key, __u32);
	__type(value, struct vr_toolchain_task);
} vr_toolchain_tasks SEC(".maps");

struct vr_toolchain_slot {
	__u32 tgid;
	__u32 slot;
};

/* The files (keys of vr_lineage_pending) a marked process opened for writing, by slot. LRU like
 * vr_lineage_pending: an evicted slot only loses that file's lineage. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VR_LINEAGE_PENDING_MAX);
	__type(key, struct vr_toolchain_slot);
	__type(value, struct vr_watch_key);
} vr_toolchain_files SEC(".maps");

/* The inode is kept as a number to re-read its identity when the writer is done; it is checked
 * against the key (device, inode number, still linked) before anything is reported. LRU: an
 * evicted file only loses its lineage (it is then reported as it would be without lineage). */
struct vr_lineage_pending {
	__u64 inode; /* struct inode * */
	__u32 tgid;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VR_LINEAGE_PENDING_MAX);
	__type(key, struct vr_watch_key);
	__type(value, struct vr_lineage_pending);
} vr_lineage_pending SEC(".maps");

/* Path assembly area: the path is written right to left into the first VR_PATH_LEN bytes; the
 * second half only exists so that masked offset + masked length always stays inside the value. */
struct vr_scratch {
	char buf[VR_PATH_LEN * 2];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vr_scratch);
} vr_scratch SEC(".maps");

/* Open files through which a process may write another process's memory (/proc/PID/mem opened for
 * writing), keyed by the struct file pointer: a descriptor may be dup'ed (dd writes through fd 1),
 * inherited or passed on. Inode and mm tell a freed and reused struct file apart. LRU: a closed
 * file is never removed explicitly. */
struct vr_proc_mem_file {
	__u64 inode; /* struct inode * */
	__u64 mm;    /* the target's struct mm_struct *, the file's private_data */
	__s32 target;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct vr_proc_mem_file);
} vr_proc_mem_files SEC(".maps");

/* Set once any such descriptor was seen: until then a write costs one array read, no hash lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} vr_proc_mem_armed SEC(".maps");

/* Anchor the wire records in the object's BTF: tools and the Java layout test read them there.
 * Never read or written by the programs. */
struct vr_btf_anchor {
	struct vr_header header;
	struct vr_file file;
	struct vr_file_key file_key;
	struct vr_exec exec;
	struct vr_exit exit;
	struct vr_exec_mapping exec_mapping;
	struct vr_anon_exec anon_exec;
	struct vr_injection injection;
	struct vr_memfd_create memfd_create;
	struct vr_file_write file_write;
	struct vr_watch_key watch_key;
	struct vr_counter counter;
	struct vr_lineage_pending lineage_pending;
};
const volatile struct vr_btf_anchor *const volatile vr_btf_anchor __attribute__((unused));

static __always_inline struct vr_counter *counter(__u32 kind)
{
	return bpf_map_lookup_elem(&vr_counters, &kind);
}

static __always_inline bool ignored(__u32 tgid)
{
	return vr_agent_tgid != 0 && tgid == vr_agent_tgid;
}

/* Reserves a record, counting it as seen, and as lost when the ring buffer is full. */
static __always_inline void *reserve_counted(__u32 kind, __u32 size)
{
	struct vr_counter *c = counter(kind);
	void *rec;

	if (c)
		__sync_fetch_and_add(&c->seen, 1);
	rec = bpf_ringbuf_reserve(&vr_events, size, 0);
	if (!rec && c)
		__sync_fetch_and_add(&c->lost, 1);
	return rec;
}

static __noinline int announce_quiet(void);

/* Every record but an exec or exit of a process that started quietly is preceded by its late exec
 * record (announce_quiet), so the agent can always name the process a record is about. */
static __always_inline void *reserve(__u32 kind, __u32 size)
{
	if (kind != VR_KIND_EXEC && kind != VR_KIND_EXIT)
		announce_quiet();
	return reserve_counted(kind, size);
}

static __always_inline void fill_header(struct vr_header *h, __u32 kind, __u32 size)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	h->version = VR_SCHEMA_VERSION;
	h->kind = kind;
	h->size = size;
	h->ktime_ns = bpf_ktime_get_ns();
	h->pid = (__u32)pid_tgid;
	h->tgid = pid_tgid >> 32;
	h->uid = (__u32)uid_gid;
	h->gid = uid_gid >> 32;
	h->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

static __always_inline __s64 inode_ctime_ns(struct inode *inode)
{
	if (bpf_core_field_exists(inode->i_ctime_sec)) {
		__s64 sec = BPF_CORE_READ(inode, i_ctime_sec);
		/* Multigrain timestamps (6.13+) keep the I_CTIME_QUERIED flag in bit 31 of
		 * i_ctime_nsec; nanoseconds never reach it, so masking it is always right. */
		__u32 nsec = BPF_CORE_READ(inode, i_ctime_nsec) & ~(1U << 31);
		return sec * 1000000000LL + nsec;
	}
	if (bpf_core_field_exists(((struct inode___timespec *)inode)->__i_ctime)) {
		struct timespec64 ts = BPF_CORE_READ((struct inode___timespec *)inode, __i_ctime);
		return ts.tv_sec * 1000000000LL + ts.tv_nsec;
	}
	struct timespec64 ts = BPF_CORE_READ((struct inode___old *)inode, i_ctime);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* memfd files live on the internal shmem (or hugetlbfs) mount and are named "memfd:<name>". A
 * regular tmpfs file can only carry that name if someone chose it, which is itself suspicious. */
static __always_inline bool is_memfd(struct file *f, __u32 magic)
{
	char prefix[6] = {};
	const unsigned char *name;

	if (magic != TMPFS_MAGIC && magic != HUGETLBFS_MAGIC)
		return false;
	name = BPF_CORE_READ(f, f_path.dentry, d_name.name);
	if (bpf_probe_read_kernel(prefix, sizeof(prefix), name))
		return false;
	return prefix[0] == 'm' && prefix[1] == 'e' && prefix[2] == 'm' && prefix[3] == 'f' &&
	       prefix[4] == 'd' && prefix[5] == ':';
}

static __always_inline void fill_file(struct vr_file *out, struct file *f)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	struct super_block *sb = BPF_CORE_READ(inode, i_sb);
	__u32 mode = BPF_CORE_READ(inode, i_mode);
	__u32 flags = 0;

	out->dev = BPF_CORE_READ(sb, s_dev);
	out->magic = (__u32)BPF_CORE_READ(sb, s_magic);
	out->ino = BPF_CORE_READ(inode, i_ino);
	out->ctime_ns = inode_ctime_ns(inode);
	out->size = BPF_CORE_READ(inode, i_size);
	out->nlink = BPF_CORE_READ(inode, i_nlink);
	out->mode = mode;
	out->generation = BPF_CORE_READ(inode, i_generation);
	if (out->nlink == 0)
		flags |= VR_FILE_DELETED;
	if (mode & S_ISUID)
		flags |= VR_FILE_SETUID;
	if (mode & S_ISGID)
		flags |= VR_FILE_SETGID;
	if (is_memfd(f, out->magic))
		flags |= VR_FILE_MEMFD;
	out->flags = flags;
}

/* The identity the agent writes into vr_verified_files and vr_quiet_exes. */
static __always_inline void file_key(struct inode *inode, struct vr_file_key *key)
{
	key->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key->ino = BPF_CORE_READ(inode, i_ino);
	key->ctime_ns = inode_ctime_ns(inode);
	key->size = BPF_CORE_READ(inode, i_size);
}

/* The mapped file is one the agent verified and nothing about it calls for a report. */
static __always_inline bool verified_mapping(struct file *f)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	struct vr_file_key key = {};

	if (BPF_CORE_READ(inode, i_nlink) == 0)
		return false;
	file_key(inode, &key);
	if (!bpf_map_lookup_elem(&vr_verified_files, &key))
		return false;
	/* A memfd is never verified by the agent, but its key could collide in principle: check. */
	if (is_memfd(f, (__u32)BPF_CORE_READ(inode, i_sb, s_magic)))
		return false;
	count_in(&vr_filtered, VR_FILTERED_MAPPINGS);
	return true;
}

/* State of one path walk, shared with the bpf_loop callback. */
struct vr_walk {
	struct dentry *dentry;
	struct mount *mnt;
	struct dentry *mnt_root;
	__u32 pos;      /* next free byte is pos - 1; the path so far is buf[pos, VR_PATH_LEN) */
	__u32 complete; /* reached the root of the mount namespace */
};

/* Prepends "/" and the dentry's name; false (and the walk incomplete) when it does not fit. */
static __always_inline bool prepend_name(struct vr_scratch *s, struct vr_walk *w,
					 struct dentry *dentry)
{
	__u32 len = BPF_CORE_READ(dentry, d_name.len);
	__u32 pos = w->pos;

	if (len + 1 > pos || pos >= VR_PATH_LEN) {
		w->complete = 0;
		return false;
	}
	pos -= len;
	bpf_probe_read_kernel(&s->buf[pos & (VR_PATH_LEN - 1)], len & (VR_PATH_LEN - 1),
			      BPF_CORE_READ(dentry, d_name.name));
	pos -= 1;
	s->buf[pos & (VR_PATH_LEN - 1)] = '/';
	w->pos = pos;
	return true;
}

/* One step up: either prepend the dentry's name, or cross from a mount's root to where it is
 * mounted. Returns 1 to stop the walk. */
static long path_step(__u32 index, void *data)
{
	struct vr_walk *w = data;
	__u32 zero = 0;
	struct vr_scratch *s = bpf_map_lookup_elem(&vr_scratch, &zero);
	struct dentry *d_parent;
	struct mount *parent;

	if (!s)
		return 1;
	/* Locals, not w->...: BPF_CORE_READ would relocate the fields of struct vr_walk itself. */
	struct dentry *dentry = w->dentry, *mnt_root = w->mnt_root;
	struct mount *mnt = w->mnt;

	d_parent = BPF_CORE_READ(dentry, d_parent);
	if (dentry == mnt_root || dentry == d_parent) {
		parent = BPF_CORE_READ(mnt, mnt_parent);
		if (dentry != mnt_root) {
			/* A dentry that is its own parent without being the mount's root: a pseudo
			 * file (memfd, pipe) or a detached tree. Its name is all the path there is. */
			w->complete = 1;
			prepend_name(s, w, dentry);
			return 1;
		}
		if (parent == mnt) {
			w->complete = 1; /* the root of the mount namespace */
			return 1;
		}
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = parent;
		w->mnt_root = BPF_CORE_READ(parent, mnt.mnt_root);
		return 0;
	}
	if (!prepend_name(s, w, dentry))
		return 1;
	w->dentry = d_parent;
	return 0;
}

/*
 * Rebuilds the file's path by walking dentries up to each mount's root and crossing to the parent
 * mount, like d_path() but bounded (bpf_d_path is not allowed in tracepoints). bpf_loop keeps the
 * verifier's work independent of the depth. The result is relative to the root of the mount
 * namespace. Writes path (NUL-terminated) and returns its length; sets VR_PATH_TRUNCATED in
 * *path_flags when leading components had to be left out.
 */
static __always_inline __u16 resolve_path(struct file *f, char *path, __u32 *path_flags)
{
	__u32 zero = 0;
	struct vr_scratch *s = bpf_map_lookup_elem(&vr_scratch, &zero);
	struct vfsmount *vfsmnt;
	struct vr_walk w = {};

	path[0] = '\0';
	if (!s) {
		*path_flags |= VR_PATH_UNRESOLVED;
		return 0;
	}
	s->buf[VR_PATH_LEN - 1] = '\0';
	w.pos = VR_PATH_LEN - 1;
	w.dentry = BPF_CORE_READ(f, f_path.dentry);
	vfsmnt = BPF_CORE_READ(f, f_path.mnt);
	w.mnt = (struct mount *)((void *)vfsmnt - bpf_core_field_offset(struct mount, mnt));
	w.mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);

	bpf_loop(VR_PATH_DEPTH, path_step, &w, 0);
	if (!w.complete)
		*path_flags |= VR_PATH_TRUNCATED;
	if (w.pos >= VR_PATH_LEN - 1) {
		/* No component: the file is a root itself. */
		w.pos = VR_PATH_LEN - 2;
		s->buf[VR_PATH_LEN - 2] = '/';
	}
	/* Masking pos (not clamping the length) keeps the size provably in [1, VR_PATH_LEN]. */
	__u64 start = w.pos & (VR_PATH_LEN - 1);
	__u64 size = VR_PATH_LEN - start; /* including the NUL */

	bpf_probe_read_kernel(path, size, &s->buf[start]);
	return size - 1;
}

/* The executable part of an exec record: the file's identity and its dentry-walk path, or none. */
static __always_inline void fill_exec_file(struct vr_exec *e, struct file *f)
{
	if (f) {
		fill_file(&e->file, f);
		e->path_len = resolve_path(f, e->path, &e->path_flags);
	} else {
		__builtin_memset(&e->file, 0, sizeof(e->file));
		e->path[0] = '\0';
		e->path_len = 0;
		e->path_flags |= VR_PATH_UNRESOLVED;
	}
}

/* The current process started quietly (vr_quiet_tasks) and is about to be reported for something
 * else: report its exec now, late, from its mm's executable (VR_EXEC_LATE; bprm's filename is gone,
 * so the filename is empty), and follow it like any other process from here on. */
static __noinline int announce_quiet(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct task_struct *task;
	struct vr_exec *e;
	struct file *f;

	if (!bpf_map_lookup_elem(&vr_quiet_tasks, &tgid))
		return 0;
	bpf_map_delete_elem(&vr_quiet_tasks, &tgid);
	e = reserve_counted(VR_KIND_EXEC, sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->hdr, VR_KIND_EXEC, sizeof(*e));
	task = (struct task_struct *)bpf_get_current_task();
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->old_pid = tgid;
	e->euid = BPF_CORE_READ(task, cred, euid.val);
	e->egid = BPF_CORE_READ(task, cred, egid.val);
	e->path_flags = VR_EXEC_LATE;
	e->filename[0] = '\0';
	e->filename_len = 0;
	f = BPF_CORE_READ(task, mm, exe_file);
	fill_exec_file(e, f);
	bpf_ringbuf_submit(e, VR_WAKE);
	return 0;
}

static __always_inline struct file *fd_to_file(struct task_struct *task, int fd)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *f = NULL;

	if (fd < 0 || !fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/* The identity of an inode without its struct file (a toolchain write that is done). */
static __always_inline void fill_inode(struct vr_file *out, struct inode *inode)
{
	struct super_block *sb = BPF_CORE_READ(inode, i_sb);
	__u32 mode = BPF_CORE_READ(inode, i_mode);

	out->dev = BPF_CORE_READ(sb, s_dev);
	out->magic = (__u32)BPF_CORE_READ(sb, s_magic);
	out->ino = BPF_CORE_READ(inode, i_ino);
	out->ctime_ns = inode_ctime_ns(inode);
	out->size = BPF_CORE_READ(inode, i_size);
	out->nlink = BPF_CORE_READ(inode, i_nlink);
	out->mode = mode;
	out->generation = BPF_CORE_READ(inode, i_generation);
	out->flags = (out->nlink == 0 ? VR_FILE_DELETED : 0) | (mode & S_ISUID ? VR_FILE_SETUID : 0) |
		     (mode & S_ISGID ? VR_FILE_SETGID : 0);
}

/* One VR_KIND_TOOLCHAIN_WRITE record. f is null for VR_WRITE_DONE (no path then). */
static __always_inline void emit_toolchain_write(__u32 operation, struct file *f,
						 struct inode *inode, __s32 fd, __u64 arg)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct vr_file_write *e = reserve(VR_KIND_TOOLCHAIN_WRITE, sizeof(*e));
	struct file *exe;

	if (!e)
		return;
	fill_header(&e->hdr, VR_KIND_TOOLCHAIN_WRITE, sizeof(*e));
	e->operation = operation;
	e->fd = fd;
	e->watch = 0;
	e->_pad = 0;
	e->arg = arg;
	fill_inode(&e->file, inode);
	exe = BPF_CORE_READ(task, mm, exe_file);
	if (exe)
		fill_file(&e->writer, exe);
	else
		__builtin_memset(&e->writer, 0, sizeof(e->writer));
	e->_pad2 = 0;
	e->path_flags = 0;
	if (f) {
		e->path_len = resolve_path(f, e->path, &e->path_flags);
	} else {
		e->path[0] = '\0';
		e->path_len = 0;
		e->path_flags = VR_PATH_UNRESOLVED;
	}
	bpf_ringbuf_submit(e, VR_QUIET);
}

struct bpf_map; /* opaque: only passed back to helpers */

struct vr_lineage_done {
	__u32 tgid;
	__u32 reported;
};

/* The final identity of one file the process wrote, if it is still the writer's pending file. */
static __always_inline void finish_file(struct vr_watch_key *key, struct vr_lineage_pending *p,
					struct vr_lineage_done *done)
{
	struct inode *inode;

	if (p->tgid != done->tgid)
		return;
	inode = (struct inode *)p->inode;
	/* Still the very inode (not freed and reused) and still linked: else nothing to trust. */
	if (BPF_CORE_READ(inode, i_ino) == key->ino && BPF_CORE_READ(inode, i_sb, s_dev) == key->dev &&
	    BPF_CORE_READ(inode, i_nlink) > 0) {
		emit_toolchain_write(VR_WRITE_DONE, NULL, inode, -1, 0);
		done->reported++;
	}
	bpf_map_delete_elem(&vr_lineage_pending, key);
}

/* bpf_for_each_map_elem callback over vr_lineage_pending. */
static long finish_toolchain_write(struct bpf_map *map, struct vr_watch_key *key,
				   struct vr_lineage_pending *p, struct vr_lineage_done *done)
{
	finish_file(key, p, done);
	return 0;
}

/* A toolchain process is done (exit, or exec of another image): report its files' final
 * identities and forget the process. Others pay one lookup. */
static __always_inline void toolchain_done(__u32 tgid)
{
	struct vr_lineage_done done = {.tgid = tgid};
	struct vr_toolchain_task *t = bpf_map_lookup_elem(&vr_toolchain_tasks, &tgid);
	struct vr_toolchain_slot slot = {.tgid = tgid};
	struct vr_lineage_pending *p;
	struct vr_watch_key *key;
	__u32 opened, slots, i;

	if (!t)
		return;
	opened = t->opened;
	slots = t->slots;
	if (opened != slots || slots > VR_TOOLCHAIN_SLOTS) {
		bpf_for_each_map_elem(&vr_lineage_pending, finish_toolchain_write, &done, 0);
	} else {
		for (i = 0; i < VR_TOOLCHAIN_SLOTS && i < slots; i++) {
			slot.slot = i;
			key = bpf_map_lookup_elem(&vr_toolchain_files, &slot);
			if (!key)
				continue;
			p = bpf_map_lookup_elem(&vr_lineage_pending, key);
			if (p)
				finish_file(key, p, &done);
		}
	}
	for (i = 0; i < VR_TOOLCHAIN_SLOTS && i < slots; i++) {
		slot.slot = i;
		bpf_map_delete_elem(&vr_toolchain_files, &slot);
	}
	bpf_map_delete_elem(&vr_toolchain_tasks, &tgid);
}

/* At exec: finishes what the process wrote before (if it was a toolchain process) and marks it
 * when its new executable is a toolchain executable. Returns whether it is marked. */
static __always_inline bool mark_toolchain_task(__u32 tgid, struct vr_file *exe)
{
	struct vr_file_key key = {};
	struct vr_toolchain_task fresh = {};

	toolchain_done(tgid);
	key.dev = exe->dev;
	key.ino = exe->ino;
	key.ctime_ns = exe->ctime_ns;
	key.size = exe->size;
	if (!bpf_map_lookup_elem(&vr_toolchain_exes, &key))
		return false;
	bpf_map_update_elem(&vr_toolchain_tasks, &tgid, &fresh, BPF_ANY);
	return true;
}

/* Adds reason bits to the process's follow entry; a full map is counted. */
static __always_inline void follow_task(__u32 tgid, __u32 reasons)
{
	__u32 *old = bpf_map_lookup_elem(&vr_follow_tasks, &tgid);

	/* Not atomic: only the process itself (at exec) and the agent write its entry. */
	if (old) {
		*old |= reasons;
		return;
	}
	if (bpf_map_update_elem(&vr_follow_tasks, &tgid, &reasons, BPF_NOEXIST) == -E2BIG)
		count_in(&vr_task_counts, VR_TASKS_FOLLOW_DROPPED);
}

/* At exec, with lineage on: an exec of a build root the agent named makes the process followed. */
static __always_inline void follow_build_root(struct file *f, __u32 tgid)
{
	struct vr_file_key key = {};

	file_key(BPF_CORE_READ(f, f_inode), &key);
	if (bpf_map_lookup_elem(&vr_follow_exes, &key))
		follow_task(tgid, VR_FOLLOW_LINEAGE);
}

/* A quiet exec of a followed process is reported anyway (and counted). */
static __always_inline bool followed_exec(__u32 tgid)
{
	if (!bpf_map_lookup_elem(&vr_follow_tasks, &tgid))
		return false;
	count_in(&vr_task_counts, VR_TASKS_FOLLOWED_EXECS);
	return true;
}

/* At the exit of a whole process: it is followed no more. Returns true when it never exec'd since
 * its fork (untracked), so its exit needs no record. */
static __always_inline bool forget_task(__u32 tgid)
{
	bpf_map_delete_elem(&vr_follow_tasks, &tgid);
	if (bpf_map_delete_elem(&vr_untracked_tasks, &tgid))
		return false;
	count_in(&vr_task_counts, VR_TASKS_UNTRACKED_EXITS);
	return true;
}

/* The exec needs no record: the agent said so for exactly this file (vr_quiet_exes: verified, or
 * an unknown one whose execs it counts), it is still linked and no memfd, no script or binfmt_misc
 * interpreter is involved (the agent would look at the script), it is no toolchain executable
 * (lineage follows those) and, unless counted, the process is not followed. The process is
 * remembered for adoption and counted. */
static __always_inline bool quiet_exec(struct task_struct *p, struct linux_binprm *bprm,
				       struct file *f, __u32 tgid)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	struct vr_quiet_task task = {};
	struct vr_file_key key = {};
	struct vr_quiet_exe *exe;

	if (BPF_CORE_READ(bprm, interp) != BPF_CORE_READ(bprm, filename))
		return false;
	if (BPF_CORE_READ(inode, i_nlink) == 0)
		return false;
	file_key(inode, &key);
	exe = bpf_map_lookup_elem(&vr_quiet_exes, &key);
	if (!exe)
		return false;
	if (is_memfd(f, (__u32)BPF_CORE_READ(inode, i_sb, s_magic)))
		return false;
	/* A counted one stays quiet in a followed process too: the agent would only count it. */
	if (!(exe->flags & VR_QUIET_COUNT) && followed_exec(tgid))
		return false;
	if (vr_trace_lineage) {
		if (bpf_map_lookup_elem(&vr_toolchain_exes, &key))
			return false;
		toolchain_done(tgid);
	}
	task.exec_ns = bpf_ktime_get_ns();
	task.ppid = BPF_CORE_READ(p, real_parent, tgid);
	bpf_map_update_elem(&vr_quiet_tasks, &tgid, &task, BPF_ANY);
	count_in(&vr_filtered, VR_FILTERED_EXECS);
	if (exe->flags & VR_QUIET_COUNT) {
		/* Two first execs at once may both set first_ns: they are nanoseconds apart. */
		if (!exe->execs)
			exe->first_ns = task.exec_ns;
		exe->last_ns = task.exec_ns;
		exe->last_pid = tgid;
		__sync_fetch_and_add(&exe->execs, 1);
	}
	return true;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(vr_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct vr_exec *e;
	struct file *f;
	const char *filename;
	char last = 0;
	long n;

	if (ignored(tgid))
		return 0;
	/* Exec'd: tracked from here on (reported, or quiet and adoptable), so its exit counts. */
	bpf_map_delete_elem(&vr_untracked_tasks, &tgid);
	f = BPF_CORE_READ(bprm, file);
	if (f && vr_trace_lineage)
		follow_build_root(f, tgid);
	if (f && quiet_exec(p, bprm, f, tgid))
		return 0;
	/* A quiet process that now runs something else is followed from here on. */
	bpf_map_delete_elem(&vr_quiet_tasks, &tgid);
	e = reserve(VR_KIND_EXEC, sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->hdr, VR_KIND_EXEC, sizeof(*e));
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	e->old_pid = old_pid;
	e->euid = BPF_CORE_READ(p, cred, euid.val);
	e->egid = BPF_CORE_READ(p, cred, egid.val);
	e->path_flags = 0;

	filename = BPF_CORE_READ(bprm, filename);
	n = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), filename);
	if (n <= 0) {
		e->filename[0] = '\0';
		n = 1;
	} else if (n == sizeof(e->filename)) {
		bpf_probe_read_kernel(&last, 1, filename + sizeof(e->filename) - 1);
		if (last)
			e->path_flags |= VR_FILENAME_TRUNCATED;
	}
	e->filename_len = n - 1;

	fill_exec_file(e, f);
	if (f && vr_trace_lineage && mark_toolchain_task(e->hdr.tgid, &e->file)) {
		e->file.flags |= VR_FILE_TOOLCHAIN;
		follow_task(tgid, VR_FOLLOW_TOOLCHAIN);
	}
	bpf_ringbuf_submit(e, VR_WAKE);
	return 0;
}

/*
 * tp_btf/sched_process_exit(struct task_struct *p, bool group_dead). The group_dead argument exists
 * on kernels whose classic event has the field of that name, so ctx[1] is read only inside a branch
 * CO-RE keeps on those kernels (elsewhere the verifier drops it as dead code). BPF_PROG would read
 * ctx[1] unconditionally, hence the raw context.
 */
SEC("tp_btf/sched_process_exit")
int vr_exit(__u64 *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct task_struct *task;
	struct vr_exit *e;
	__u32 tgid;

	/* One event per process: when the whole thread group is gone. Kernels without group_dead
	 * fall back to the leader's exit. */
	if (bpf_core_field_exists(struct trace_event_raw_sched_process_exit, group_dead)) {
		if (!(__u8)ctx[1])
			return 0;
	} else if ((__u32)pid_tgid != pid_tgid >> 32) {
		return 0;
	}
	if (ignored(pid_tgid >> 32))
		return 0;
	/* Before the exit record: the agent still knows the process when it reads its files. */
	if (vr_trace_lineage)
		toolchain_done(pid_tgid >> 32);
	tgid = pid_tgid >> 32;
	if (forget_task(tgid))
		return 0;
	if (bpf_map_lookup_elem(&vr_quiet_tasks, &tgid)) {
		/* Never adopted: the agent never heard of it and needs no exit. */
		bpf_map_delete_elem(&vr_quiet_tasks, &tgid);
		count_in(&vr_filtered, VR_FILTERED_EXITS);
		return 0;
	}
	e = reserve(VR_KIND_EXIT, sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->hdr, VR_KIND_EXIT, sizeof(*e));
	task = (struct task_struct *)bpf_get_current_task();
	e->exit_code = BPF_CORE_READ(task, exit_code);
	e->_pad = 0;
	bpf_ringbuf_submit(e, VR_QUIET);
	return 0;
}

/* A new process (not a thread): untracked until it execs, and followed when its parent is (for an
 * incident, up to VR_INCIDENT_GENERATIONS below the incident's process). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(vr_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 tgid = BPF_CORE_READ(child, tgid);
	__u32 parent_tgid = BPF_CORE_READ(parent, tgid);
	__u32 zero = 0, *reasons, inherited, generation;

	if (BPF_CORE_READ(child, pid) != tgid || ignored(parent_tgid))
		return 0;
	bpf_map_update_elem(&vr_untracked_tasks, &tgid, &zero, BPF_ANY);
	reasons = bpf_map_lookup_elem(&vr_follow_tasks, &parent_tgid);
	if (!reasons)
		return 0;
	inherited = *reasons | VR_FOLLOW_INHERITED;
	if (inherited & VR_FOLLOW_INCIDENT) {
		generation = ((inherited & VR_FOLLOW_GENERATION_MASK) >> VR_FOLLOW_GENERATION_SHIFT) + 1;
		inherited &= ~VR_FOLLOW_GENERATION_MASK;
		if (generation <= VR_INCIDENT_GENERATIONS) {
			inherited |= generation << VR_FOLLOW_GENERATION_SHIFT;
		} else {
			inherited &= ~VR_FOLLOW_INCIDENT;
			count_in(&vr_task_counts, VR_TASKS_INCIDENT_DEPTH);
			if (!(inherited & (VR_FOLLOW_LINEAGE | VR_FOLLOW_TOOLCHAIN)))
				return 0;
		}
	}
	if (bpf_map_update_elem(&vr_follow_tasks, &tgid, &inherited, BPF_ANY) == -E2BIG)
		count_in(&vr_task_counts, VR_TASKS_FOLLOW_DROPPED);
	else
		count_in(&vr_task_counts, VR_TASKS_INHERITED);
	return 0;
}

/* A 32-bit syscall of a compat task: its numbers are another table's, so none of ours apply (the
 * classic syscall tracepoints ignore them too). arm64's AArch32 tasks are not told apart here. */
static __always_inline bool compat_syscall(void)
{
#if defined(__TARGET_ARCH_x86)
	struct task_struct *task = bpf_get_current_task_btf();

	return (BPF_CORE_READ(task, thread_info.status) & TS_COMPAT) != 0;
#else
	return false;
#endif
}

static __always_inline void emit_injection(__u32 technique, __s32 target, __s64 request,
					   __u64 addr, __u64 count)
{
	struct vr_injection *e = reserve(VR_KIND_INJECTION, sizeof(*e));

	if (!e)
		return;
	fill_header(&e->hdr, VR_KIND_INJECTION, sizeof(*e));
	e->technique = technique;
	e->target_pid = target;
	e->request = request;
	e->addr = addr;
	e->count = count;
	bpf_ringbuf_submit(e, VR_WAKE);
}

static __always_inline int exit_mmap(struct pt_regs *regs, long ret)
{
	struct vr_pending_mmap {
		__u64 addr;
		__u64 len;
		__u64 offset;
		__u32 prot;
		__u32 flags;
		__s32 fd;
	} m;
	struct file *f;

	m.prot = ARG2(regs);
	if (!(m.prot & PROT_EXEC) || ignored(bpf_get_current_pid_tgid() >> 32))
		return 0;
	if (ret < 0 && ret >= -MAX_ERRNO)
		return 0;
	m.addr = ARG0(regs);
	m.len = ARG1(regs);
	m.flags = ARG3(regs);
	m.fd = (int)ARG4(regs);
	m.offset = ARG5(regs);

	f = (m.flags & MAP_ANONYMOUS) ? NULL
				       : fd_to_file((struct task_struct *)bpf_get_current_task(), m.fd);
	if (!f && ((m.flags & MAP_ANONYMOUS) || m.fd < 0)) {
		struct vr_anon_exec *a = reserve(VR_KIND_ANON_EXEC, sizeof(*a));

		if (!a)
			return 0;
		fill_header(&a->hdr, VR_KIND_ANON_EXEC, sizeof(*a));
		a->addr = ret;
		a->len = m.len;
		a->prot = m.prot;
		a->map_flags = m.flags;
		a->source = VR_SOURCE_MMAP;
		a->_pad = 0;
		bpf_ringbuf_submit(a, VR_WAKE);
		return 0;
	}
	if (f && verified_mapping(f))
		return 0;

	struct vr_exec_mapping *e = reserve(VR_KIND_EXEC_MAPPING, sizeof(*e));

	if (!e)
		return 0;
	fill_header(&e->hdr, VR_KIND_EXEC_MAPPING, sizeof(*e));
	e->addr = ret;
	e->len = m.len;
	e->offset = m.offset;
	e->prot = m.prot;
	e->map_flags = m.flags;
	e->source = VR_SOURCE_MMAP;
	e->fd = m.fd;
	e->path_flags = 0;
	e->_pad = 0;
	if (f) {
		fill_file(&e->file, f);
		e->path_len = resolve_path(f, e->path, &e->path_flags);
	} else {
		/* The descriptor was closed by another thread before we looked. */
		__builtin_memset(&e->file, 0, sizeof(e->file));
		e->path[0] = '\0';
		e->path_len = 0;
		e->path_flags = VR_PATH_UNRESOLVED;
	}
	bpf_ringbuf_submit(e, VR_WAKE);
	return 0;
}

struct vr_vma_info {
	__u64 file;   /* struct file *, 0 for anonymous memory */
	__u64 pgoff;
	__u64 start;
	__u32 was_exec;
	__u32 found;
};

static long vma_info(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct vr_vma_info *info = data;

	info->found = 1;
	info->was_exec = (BPF_CORE_READ(vma, vm_flags) & VM_EXEC) != 0;
	info->file = (__u64)BPF_CORE_READ(vma, vm_file);
	info->pgoff = BPF_CORE_READ(vma, vm_pgoff);
	info->start = BPF_CORE_READ(vma, vm_start);
	return 0;
}

static __always_inline int enter_mprotect(struct pt_regs *regs)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct vr_pending_mprotect m = {};
	struct vr_vma_info info = {};

	if (ignored(pid_tgid >> 32))
		return 0;
	m.prot = ARG2(regs);
	if (!(m.prot & PROT_EXEC))
		return 0;
	m.addr = ARG0(regs);
	m.len = ARG1(regs);
	/* Only the mapping at the start address is inspected: already executable means nothing
	 * is added. A range spanning several mappings is judged by its first one. */
	bpf_find_vma(bpf_get_current_task_btf(), m.addr, vma_info, &info, 0);
	if (info.found && info.was_exec)
		return 0;
	bpf_map_update_elem(&vr_pending_mprotects, &tid, &m, BPF_ANY);
	return 0;
}

static __always_inline int exit_mprotect(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vr_pending_mprotect *pm, m;
	struct vr_vma_info info = {};
	struct file *f;

	pm = bpf_map_lookup_elem(&vr_pending_mprotects, &tid);
	if (!pm)
		return 0;
	m = *pm;
	bpf_map_delete_elem(&vr_pending_mprotects, &tid);
	if (ret != 0)
		return 0;

	bpf_find_vma(bpf_get_current_task_btf(), m.addr, vma_info, &info, 0);
	f = (struct file *)info.file;
	if (!f) {
		struct vr_anon_exec *a = reserve(VR_KIND_ANON_EXEC, sizeof(*a));

		if (!a)
			return 0;
		fill_header(&a->hdr, VR_KIND_ANON_EXEC, sizeof(*a));
		a->addr = m.addr;
		a->len = m.len;
		a->prot = m.prot;
		a->map_flags = 0;
		a->source = VR_SOURCE_MPROTECT;
		a->_pad = 0;
		bpf_ringbuf_submit(a, VR_WAKE);
		return 0;
	}

	struct vr_exec_mapping *e = reserve(VR_KIND_EXEC_MAPPING, sizeof(*e));

	if (!e)
		return 0;
	fill_header(&e->hdr, VR_KIND_EXEC_MAPPING, sizeof(*e));
	e->addr = m.addr;
	e->len = m.len;
	e->offset = (info.pgoff << 12) + (m.addr - info.start);
	e->prot = m.prot;
	e->map_flags = 0;
	e->source = VR_SOURCE_MPROTECT;
	e->fd = -1;
	e->path_flags = 0;
	e->_pad = 0;
	fill_file(&e->file, f);
	e->path_len = resolve_path(f, e->path, &e->path_flags);
	bpf_ringbuf_submit(e, VR_WAKE);
	return 0;
}

static __always_inline int enter_ptrace(struct pt_regs *regs)
{
	__s64 request = ARG0(regs);

	if (ignored(bpf_get_current_pid_tgid() >> 32))
		return 0;
	switch (request) {
	case PTRACE_POKETEXT:
	case PTRACE_POKEDATA:
	case PTRACE_POKEUSER:
	case PTRACE_SETREGS:
	case PTRACE_SETFPREGS:
	case PTRACE_ATTACH:
	case PTRACE_SETREGSET:
	case PTRACE_SEIZE:
		break;
	default:
		return 0;
	}
	emit_injection(VR_INJECT_PTRACE, (__s32)ARG1(regs), request, ARG2(regs), ARG3(regs));
	return 0;
}

static __always_inline int enter_process_vm_writev(struct pt_regs *regs)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__s32 target = (__s32)ARG0(regs);

	/* Writing into one's own address space is not injection. */
	if (ignored(tgid) || target == (__s32)tgid)
		return 0;
	emit_injection(VR_INJECT_PROCESS_VM_WRITEV, target, 0, ARG3(regs), ARG4(regs));
	return 0;
}

/*
 * A poke or process_vm_writev into another process returned successfully: the bytes are in its
 * memory now. The attempt was reported at entry; this tells the agent when verifying the target
 * will see what was written (at entry the write has not happened, and the writer may be preempted
 * before it does).
 */
static __always_inline int exit_ptrace(struct pt_regs *regs, long ret)
{
	__s64 request = ARG0(regs);

	if (ret != 0 || (request != PTRACE_POKETEXT && request != PTRACE_POKEDATA) ||
	    ignored(bpf_get_current_pid_tgid() >> 32))
		return 0;
	emit_injection(VR_INJECT_WRITE_DONE, (__s32)ARG1(regs), request, ARG2(regs), 0);
	return 0;
}

static __always_inline int exit_process_vm_writev(struct pt_regs *regs, long ret)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__s32 target = (__s32)ARG0(regs);

	if (ret <= 0 || ignored(tgid) || target == (__s32)tgid)
		return 0;
	emit_injection(VR_INJECT_WRITE_DONE, target, 0, 0, ret);
	return 0;
}

/* Emitted at syscall exit: the kernel has then faulted the name in, which a tracepoint cannot do
 * at entry. Failed calls are reported too, with -errno as fd. */
static __always_inline int exit_memfd_create(struct pt_regs *regs, long ret)
{
	struct vr_memfd_create *e;
	long n;

	if (ignored(bpf_get_current_pid_tgid() >> 32))
		return 0;
	e = reserve(VR_KIND_MEMFD_CREATE, sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->hdr, VR_KIND_MEMFD_CREATE, sizeof(*e));
	e->flags = ARG1(regs);
	e->fd = ret;
	e->_pad[0] = e->_pad[1] = e->_pad[2] = 0;
	n = bpf_probe_read_user_str(e->name, sizeof(e->name), (const char *)ARG0(regs));
	if (n <= 0) {
		e->name[0] = '\0';
		n = 1;
	}
	e->name_len = n - 1;
	bpf_ringbuf_submit(e, VR_WAKE);
	return 0;
}

/*
 * /proc/PID/mem (or /proc/PID/task/TID/mem) opened for writing: reported as an injection when the
 * memory is another process's (the file's private_data is the target's mm). Returns true when f is
 * a /proc file, which is never a watched file either.
 */
static __always_inline bool proc_mem_write(struct task_struct *task, struct file *f,
					   struct inode *inode, __u64 flags)
{
	struct vr_proc_mem_file tracked = {};
	__u64 key = (__u64)f;
	__u32 zero = 0, one = 1;
	struct proc_inode *pi;
	struct task_struct *target;
	struct hlist_node *first;
	char name[3];
	void *mm;

	if (!vr_trace_injection)
		return true;
	if (BPF_CORE_READ(f, f_path.dentry, d_name.len) != 3 ||
	    bpf_probe_read_kernel(name, sizeof(name), BPF_CORE_READ(f, f_path.dentry, d_name.name)) ||
	    name[0] != 'm' || name[1] != 'e' || name[2] != 'm')
		return true;
	if (!(BPF_CORE_READ(f, f_mode) & FMODE_WRITE))
		return true;
	mm = BPF_CORE_READ(f, private_data);
	if (!mm || mm == (void *)BPF_CORE_READ(task, mm))
		return true;
	/* The thread the path names: proc_inode->pid, whose first PIDTYPE_PID task is it. */
	pi = (struct proc_inode *)((void *)inode - bpf_core_field_offset(struct proc_inode, vfs_inode));
	first = BPF_CORE_READ(pi, pid, tasks[0].first);
	if (first) {
		target = (struct task_struct *)((void *)first -
						bpf_core_field_offset(struct task_struct, pid_links));
		tracked.target = BPF_CORE_READ(target, tgid);
		emit_injection(VR_INJECT_PROC_MEM, tracked.target, flags, 0,
			       BPF_CORE_READ(target, pid));
	} else {
		emit_injection(VR_INJECT_PROC_MEM, 0, flags, 0, 0); /* the target exited already */
	}
	/* Its writes are reported too: the agent re-verifies the target after the bytes changed. */
	tracked.inode = (__u64)inode;
	tracked.mm = (__u64)mm;
	bpf_map_update_elem(&vr_proc_mem_files, &key, &tracked, BPF_ANY);
	bpf_map_update_elem(&vr_proc_mem_armed, &zero, &one, BPF_ANY);
	return true;
}

/*
 * The exit of a successful write-family call: reported when the descriptor's file is one of
 * vr_proc_mem_files (another process's memory). pos_arg is the argument holding the file offset
 * (pwrite64, pwritev), or -1 when the write started at f_pos (now advanced by ret).
 */
static __always_inline int exit_write(struct pt_regs *regs, long ret, long nr, int pos_arg)
{
	struct vr_proc_mem_file *tracked;
	struct file *f;
	__u32 zero = 0;
	__u32 *armed;
	__u64 key, addr;

	if (ret <= 0 || !vr_trace_injection)
		return 0;
	armed = bpf_map_lookup_elem(&vr_proc_mem_armed, &zero);
	if (!armed || !*armed)
		return 0;
	f = fd_to_file((struct task_struct *)bpf_get_current_task(), (int)ARG0(regs));
	if (!f)
		return 0;
	key = (__u64)f;
	tracked = bpf_map_lookup_elem(&vr_proc_mem_files, &key);
	if (!tracked)
		return 0;
	if ((__u64)BPF_CORE_READ(f, f_inode) != tracked->inode ||
	    (__u64)BPF_CORE_READ(f, private_data) != tracked->mm) {
		bpf_map_delete_elem(&vr_proc_mem_files, &key); /* freed, and reused for another file */
		return 0;
	}
	if (pos_arg == 3)
		addr = ARG3(regs);
	else
		addr = BPF_CORE_READ(f, f_pos) - ret;
	emit_injection(VR_INJECT_PROC_MEM_WRITE, tracked->target, nr, addr, ret);
	return 0;
}

/* A write into a file the agent watches. Unwatched files cost the lookup and nothing else. */
static __always_inline void watched_write(struct task_struct *task, struct file *f,
					  struct inode *inode, __u32 operation, __s32 fd, __u64 arg)
{
	struct vr_watch_key key = {};
	struct vr_file_write *e;
	struct vr_watch *watch;
	struct file *exe;

	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key.ino = BPF_CORE_READ(inode, i_ino);
	watch = bpf_map_lookup_elem(&vr_watched_files, &key);
	if (!watch)
		return;
	if (watch->generation && watch->generation != BPF_CORE_READ(inode, i_generation)) {
		/* The watched file is gone and its inode number went to this one. */
		bpf_map_delete_elem(&vr_watched_files, &key);
		count_in(&vr_task_counts, VR_TASKS_WATCH_STALE);
		return;
	}
	e = reserve(VR_KIND_FILE_WRITE, sizeof(*e));
	if (!e)
		return;
	fill_header(&e->hdr, VR_KIND_FILE_WRITE, sizeof(*e));
	e->operation = operation;
	e->fd = fd;
	e->watch = watch->reasons;
	e->_pad = 0;
	e->arg = arg;
	fill_file(&e->file, f);
	exe = BPF_CORE_READ(task, mm, exe_file);
	if (exe)
		fill_file(&e->writer, exe);
	else
		__builtin_memset(&e->writer, 0, sizeof(e->writer));
	e->path_flags = 0;
	e->_pad2 = 0;
	e->path_len = resolve_path(f, e->path, &e->path_flags);
	bpf_ringbuf_submit(e, VR_WAKE);
}

/* A regular file opened for writing by a toolchain process: reported now (with its path) and
 * remembered until the process is done. The lookup of the task is all other writers pay. */
static __always_inline void toolchain_write(struct file *f, struct inode *inode, __s32 fd,
					    __u64 flags)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct vr_toolchain_task *t = bpf_map_lookup_elem(&vr_toolchain_tasks, &tgid);
	struct vr_toolchain_slot slot = {.tgid = tgid};
	struct vr_lineage_pending p = {};
	struct vr_watch_key key = {};

	if (!t)
		return;
	if ((BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFREG)
		return;
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key.ino = BPF_CORE_READ(inode, i_ino);
	p.inode = (__u64)inode;
	p.tgid = tgid;
	bpf_map_update_elem(&vr_lineage_pending, &key, &p, BPF_ANY);
	__sync_fetch_and_add(&t->opened, 1);
	slot.slot = t->slots;
	if (slot.slot < VR_TOOLCHAIN_SLOTS &&
	    !bpf_map_update_elem(&vr_toolchain_files, &slot, &key, BPF_ANY))
		t->slots = slot.slot + 1;
	else
		t->slots = VR_TOOLCHAIN_SLOTS + 1; /* its end visits all of vr_lineage_pending */
	emit_toolchain_write(VR_WRITE_OPEN, f, inode, fd, flags);
}

/* The exit of a successful open-family call that may write: the new descriptor names the file. */
static __always_inline int exit_open(long ret, __u64 flags)
{
	struct task_struct *task;
	struct inode *inode;
	struct file *f;

	/* Read-only opens, by far the most frequent, stop here. */
	if (ret < 0 || ((flags & O_ACCMODE) == 0 && !(flags & O_TRUNC)))
		return 0;
	if (ignored(bpf_get_current_pid_tgid() >> 32))
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	f = fd_to_file(task, ret);
	if (!f)
		return 0;
	inode = BPF_CORE_READ(f, f_inode);
	if (BPF_CORE_READ(inode, i_sb, s_magic) == PROC_SUPER_MAGIC) {
		proc_mem_write(task, f, inode, flags);
		return 0;
	}
	/* O_TRUNC truncates even without write access; otherwise the open must grant it. */
	if (!(flags & O_TRUNC) && !(BPF_CORE_READ(f, f_mode) & FMODE_WRITE))
		return 0;
	if (vr_trace_writes)
		watched_write(task, f, inode, VR_WRITE_OPEN, ret, flags);
	if (vr_trace_lineage)
		toolchain_write(f, inode, ret, flags);
	return 0;
}

static __always_inline int exit_openat2(struct pt_regs *regs, long ret)
{
	__u64 flags;

	/* struct open_how starts with its __u64 flags; unreadable, let the file's mode decide. */
	if (ret < 0)
		return 0;
	if (bpf_probe_read_user(&flags, sizeof(flags), (const void *)ARG2(regs)))
		flags = O_ACCMODE;
	return exit_open(ret, flags);
}

static __always_inline int exit_ftruncate(struct pt_regs *regs, long ret)
{
	struct task_struct *task;
	struct file *f;
	int fd = (int)ARG0(regs);

	if (ret != 0 || !vr_trace_writes || ignored(bpf_get_current_pid_tgid() >> 32))
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	f = fd_to_file(task, fd);
	if (f)
		watched_write(task, f, BPF_CORE_READ(f, f_inode), VR_WRITE_FTRUNCATE, fd, ARG1(regs));
	return 0;
}

/*
 * What a syscall entry reports, by syscall number. Only what must be seen before the syscall runs
 * is handled here: mprotect's previous protection, and injection attempts (reported even if the
 * syscall then fails or blocks; a write that landed is reported again at exit,
 * VR_INJECT_WRITE_DONE).
 */
static __always_inline int on_sys_enter(struct pt_regs *regs, long id)
{
	switch (id) {
	case NR_mprotect:
		if (!vr_trace_mmap || compat_syscall())
			return 0;
		return enter_mprotect(regs);
	case NR_ptrace:
		if (!vr_trace_injection || compat_syscall())
			return 0;
		return enter_ptrace(regs);
	case NR_process_vm_writev:
		if (!vr_trace_injection || compat_syscall())
			return 0;
		return enter_process_vm_writev(regs);
	default:
		return 0;
	}
}

/* What a syscall exit reports, by syscall number. */
static __always_inline int on_sys_exit(struct pt_regs *regs, long id, long ret)
{
	switch (id) {
	case NR_mmap:
		if (!vr_trace_mmap || compat_syscall())
			return 0;
		return exit_mmap(regs, ret);
	case NR_mprotect:
		if (!vr_trace_mmap)
			return 0;
		return exit_mprotect(ret); /* only what sys_enter kept, which excludes compat calls */
	case NR_memfd_create:
		if (!vr_trace_injection || compat_syscall())
			return 0;
		return exit_memfd_create(regs, ret);
	case NR_ptrace:
		if (!vr_trace_injection || compat_syscall())
			return 0;
		return exit_ptrace(regs, ret);
	case NR_process_vm_writev:
		if (!vr_trace_injection || compat_syscall())
			return 0;
		return exit_process_vm_writev(regs, ret);
#ifdef NR_open
	case NR_open:
		if (compat_syscall())
			return 0;
		return exit_open(ret, ARG1(regs));
	case NR_creat:
		if (compat_syscall())
			return 0;
		return exit_open(ret, O_CREAT | O_WRONLY | O_TRUNC);
#endif
	case NR_openat:
		if (compat_syscall())
			return 0;
		return exit_open(ret, ARG2(regs));
	case NR_openat2:
		if (compat_syscall())
			return 0;
		return exit_openat2(regs, ret);
	case NR_ftruncate:
		if (compat_syscall())
			return 0;
		return exit_ftruncate(regs, ret);
	case NR_write:
	case NR_writev:
		if (compat_syscall())
			return 0;
		return exit_write(regs, ret, id, -1);
	case NR_pwrite64:
	case NR_pwritev:
	case NR_pwritev2:
		if (compat_syscall())
			return 0;
		return exit_write(regs, ret, id, 3);
	default:
		return 0;
	}
}

/*
 * Two ways to reach the dispatch above. The raw syscall tracepoints (tp_btf) attach by name, with
 * or without tracefs, but fire for every syscall on the host and call a program each time. The
 * per-syscall tracepoints (syscalls/sys_enter_NAME, sys_exit_NAME) call a program only for the
 * syscalls they are attached to (the kernel tests a bitmap first), but they are found through
 * tracefs. The agent attaches vr_tp_sys_enter and vr_tp_sys_exit to each syscall of the switches
 * above when it can (ProbeSpec.SyscallHooks lists them) and the raw pair otherwise; never both.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(vr_sys_enter, struct pt_regs *regs, long id)
{
	return on_sys_enter(regs, id);
}

/* Every syscall exit on the host: the syscall number is read back from the saved registers. */
SEC("tp_btf/sys_exit")
int BPF_PROG(vr_sys_exit, struct pt_regs *regs, long ret)
{
	return on_sys_exit(regs, SYSCALL_NR(regs), ret);
}

/* The records of the syscalls/ tracepoints (their tracefs "format"): after the 8-byte common
 * header, the syscall number, then the six arguments or the return value. */
struct vr_syscall_enter_record {
	__u64 common;
	__s32 nr;
	__u64 args[6];
};

struct vr_syscall_exit_record {
	__u64 common;
	__s32 nr;
	__s64 ret;
};

/* The registers the syscall was called with (the kernel's BTF-typed pointer). */
static __always_inline struct pt_regs *syscall_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

SEC("tracepoint")
int vr_tp_sys_enter(struct vr_syscall_enter_record *ctx)
{
	return on_sys_enter(syscall_regs(), ctx->nr);
}

SEC("tracepoint")
int vr_tp_sys_exit(struct vr_syscall_exit_record *ctx)
{
	return on_sys_exit(syscall_regs(), ctx->nr, ctx->ret);
}
