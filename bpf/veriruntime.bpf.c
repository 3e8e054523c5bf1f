// SPDX-License-Identifier: GPL-2.0
/*
 * VeriRuntime kernel probe: reports every exec, process exit, executable mapping, anonymous
 * executable memory and code-injection signal into one ring buffer, as the records defined in
 * veriruntime.h. Read-only: it observes, never blocks.
 *
 * Only tracepoints are used (tp_btf and classic tp): fentry, LSM and kprobes are not available on
 * the target hosts. Kernel structs are read with CO-RE (vr_kernel.h), so one object runs on any
 * kernel with BTF.
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

#define VR_RINGBUF_DEFAULT_BYTES (16 * 1024 * 1024)
#define VR_PATH_DEPTH 48 /* dentries plus mount crossings walked per path */
#define VR_PENDING_MAX 16384

/* Wake-ups: an exit record is only bookkeeping for the agent, so it never wakes the reader (which
 * picks quiet records up with the next wake-up, or after its poll timeout). That halves the
 * wake-ups of an exec storm. Every other record wakes the reader unconditionally: the kernel's
 * default ("only if the reader has consumed everything") would stay silent behind a quiet record. */
#define VR_QUIET BPF_RB_NO_WAKEUP
#define VR_WAKE BPF_RB_FORCE_WAKEUP
#define VR_VERIFIED_MAX 8192

#define PROT_EXEC 0x4
#define MAP_ANONYMOUS 0x20
#define VM_EXEC 0x4
#define S_ISUID 04000
#define S_ISGID 02000
#define TMPFS_MAGIC 0x01021994
#define HUGETLBFS_MAGIC 0x958458f6
#define MAX_ERRNO 4095

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

/* mmap arguments between sys_enter and sys_exit, per thread. LRU: a thread killed inside the
 * syscall never reaches sys_exit, and its entry must not leak. */
struct vr_pending_mmap {
	__u64 addr;
	__u64 len;
	__u64 offset;
	__u32 prot;
	__u32 flags;
	__s32 fd;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VR_PENDING_MAX);
	__type(key, __u32);
	__type(value, struct vr_pending_mmap);
} vr_pending_mmaps SEC(".maps");

/* mprotect adding PROT_EXEC, decided at sys_enter (afterwards the old protection is gone). */
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

/* Executable mappings not reported because vr_verified_files vouched for the file. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vr_filtered SEC(".maps");

/* memfd_create arguments between sys_enter and sys_exit, per thread. */
struct vr_pending_memfd {
	__u64 name; /* user pointer */
	__u32 flags;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct vr_pending_memfd);
} vr_pending_memfds SEC(".maps");

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
	struct vr_counter counter;
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
static __always_inline void *reserve(__u32 kind, __u32 size)
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

/* The mapped file is one the agent verified and nothing about it calls for a report. */
static __always_inline bool verified_mapping(struct file *f)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	struct vr_file_key key = {};
	__u32 zero = 0;
	__u64 *filtered;

	if (BPF_CORE_READ(inode, i_nlink) == 0)
		return false;
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key.ino = BPF_CORE_READ(inode, i_ino);
	key.ctime_ns = inode_ctime_ns(inode);
	key.size = BPF_CORE_READ(inode, i_size);
	if (!bpf_map_lookup_elem(&vr_verified_files, &key))
		return false;
	/* A memfd is never verified by the agent, but its key could collide in principle: check. */
	if (is_memfd(f, (__u32)BPF_CORE_READ(inode, i_sb, s_magic)))
		return false;
	filtered = bpf_map_lookup_elem(&vr_filtered, &zero);
	if (filtered)
		*filtered += 1;
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

SEC("tp_btf/sched_process_exec")
int BPF_PROG(vr_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct vr_exec *e;
	struct file *f;
	const char *filename;
	char last = 0;
	long n;

	if (ignored(bpf_get_current_pid_tgid() >> 32))
		return 0;
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

	f = BPF_CORE_READ(bprm, file);
	if (f) {
		fill_file(&e->file, f);
		e->path_len = resolve_path(f, e->path, &e->path_flags);
	} else {
		__builtin_memset(&e->file, 0, sizeof(e->file));
		e->path[0] = '\0';
		e->path_len = 0;
		e->path_flags |= VR_PATH_UNRESOLVED;
	}
	bpf_ringbuf_submit(e, VR_WAKE);
	return 0;
}

SEC("tp/sched/sched_process_exit")
int vr_exit(struct trace_event_raw_sched_process_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct task_struct *task;
	struct vr_exit *e;

	/* One event per process: when the whole thread group is gone. Kernels without group_dead
	 * in the event fall back to the leader's exit. */
	if (bpf_core_field_exists(ctx->group_dead)) {
		if (!BPF_CORE_READ(ctx, group_dead))
			return 0;
	} else if ((__u32)pid_tgid != pid_tgid >> 32) {
		return 0;
	}
	if (ignored(pid_tgid >> 32))
		return 0;
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

SEC("tp/syscalls/sys_enter_mmap")
int vr_enter_mmap(struct trace_event_raw_sys_enter *ctx)
{
	struct vr_pending_mmap m = {};
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;

	if (!vr_trace_mmap || ignored(pid_tgid >> 32))
		return 0;
	m.prot = BPF_CORE_READ(ctx, args[2]);
	if (!(m.prot & PROT_EXEC))
		return 0;
	m.addr = BPF_CORE_READ(ctx, args[0]);
	m.len = BPF_CORE_READ(ctx, args[1]);
	m.flags = BPF_CORE_READ(ctx, args[3]);
	m.fd = (int)BPF_CORE_READ(ctx, args[4]);
	m.offset = BPF_CORE_READ(ctx, args[5]);
	bpf_map_update_elem(&vr_pending_mmaps, &tid, &m, BPF_ANY);
	return 0;
}

SEC("tp/syscalls/sys_exit_mmap")
int vr_exit_mmap(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vr_pending_mmap *pm, m;
	long ret;
	struct file *f;

	if (!vr_trace_mmap)
		return 0;
	pm = bpf_map_lookup_elem(&vr_pending_mmaps, &tid);
	if (!pm)
		return 0;
	m = *pm;
	bpf_map_delete_elem(&vr_pending_mmaps, &tid);
	ret = BPF_CORE_READ(ctx, ret);
	if (ret < 0 && ret >= -MAX_ERRNO)
		return 0;

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

SEC("tp/syscalls/sys_enter_mprotect")
int vr_enter_mprotect(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct vr_pending_mprotect m = {};
	struct vr_vma_info info = {};

	if (!vr_trace_mmap || ignored(pid_tgid >> 32))
		return 0;
	m.prot = BPF_CORE_READ(ctx, args[2]);
	if (!(m.prot & PROT_EXEC))
		return 0;
	m.addr = BPF_CORE_READ(ctx, args[0]);
	m.len = BPF_CORE_READ(ctx, args[1]);
	/* Only the mapping at the start address is inspected: already executable means nothing
	 * is added. A range spanning several mappings is judged by its first one. */
	bpf_find_vma(bpf_get_current_task_btf(), m.addr, vma_info, &info, 0);
	if (info.found && info.was_exec)
		return 0;
	bpf_map_update_elem(&vr_pending_mprotects, &tid, &m, BPF_ANY);
	return 0;
}

SEC("tp/syscalls/sys_exit_mprotect")
int vr_exit_mprotect(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vr_pending_mprotect *pm, m;
	struct vr_vma_info info = {};
	struct file *f;

	if (!vr_trace_mmap)
		return 0;
	pm = bpf_map_lookup_elem(&vr_pending_mprotects, &tid);
	if (!pm)
		return 0;
	m = *pm;
	bpf_map_delete_elem(&vr_pending_mprotects, &tid);
	if (BPF_CORE_READ(ctx, ret) != 0)
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

SEC("tp/syscalls/sys_enter_ptrace")
int vr_enter_ptrace(struct trace_event_raw_sys_enter *ctx)
{
	__s64 request = BPF_CORE_READ(ctx, args[0]);

	if (!vr_trace_injection || ignored(bpf_get_current_pid_tgid() >> 32))
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
	emit_injection(VR_INJECT_PTRACE, (__s32)BPF_CORE_READ(ctx, args[1]), request,
		       BPF_CORE_READ(ctx, args[2]), BPF_CORE_READ(ctx, args[3]));
	return 0;
}

SEC("tp/syscalls/sys_enter_process_vm_writev")
int vr_enter_process_vm_writev(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__s32 target = (__s32)BPF_CORE_READ(ctx, args[0]);

	/* Writing into one's own address space is not injection. */
	if (!vr_trace_injection || ignored(tgid) || target == (__s32)tgid)
		return 0;
	emit_injection(VR_INJECT_PROCESS_VM_WRITEV, target, 0, BPF_CORE_READ(ctx, args[3]),
		       BPF_CORE_READ(ctx, args[4]));
	return 0;
}

SEC("tp/syscalls/sys_enter_memfd_create")
int vr_enter_memfd_create(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct vr_pending_memfd m = {};

	if (!vr_trace_injection || ignored(pid_tgid >> 32))
		return 0;
	m.name = BPF_CORE_READ(ctx, args[0]);
	m.flags = BPF_CORE_READ(ctx, args[1]);
	bpf_map_update_elem(&vr_pending_memfds, &tid, &m, BPF_ANY);
	return 0;
}

SEC("tp/syscalls/sys_exit_memfd_create")
int vr_exit_memfd_create(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vr_pending_memfd *pm, m;
	struct vr_memfd_create *e;
	long n;

	if (!vr_trace_injection)
		return 0;
	pm = bpf_map_lookup_elem(&vr_pending_memfds, &tid);
	if (!pm)
		return 0;
	m = *pm;
	bpf_map_delete_elem(&vr_pending_memfds, &tid);
	e = reserve(VR_KIND_MEMFD_CREATE, sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->hdr, VR_KIND_MEMFD_CREATE, sizeof(*e));
	e->flags = m.flags;
	e->fd = BPF_CORE_READ(ctx, ret);
	e->_pad[0] = e->_pad[1] = e->_pad[2] = 0;
	n = bpf_probe_read_user_str(e->name, sizeof(e->name), (const char *)m.name);
	if (n <= 0) {
		e->name[0] = '\0';
		n = 1;
	}
	e->name_len = n - 1;
	bpf_ringbuf_submit(e, VR_WAKE);
	return 0;
}
