/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wire records of the VeriRuntime probe: the only contract between the kernel side
 * (veriruntime.bpf.c) and Java (dev.veriruntime.ingest.record.RecordDecoder).
 *
 * Rules that keep both sides honest:
 *  - every record starts with struct vr_header; `size` is the full record size in bytes;
 *  - fixed-size structs, explicit padding, no bitfields, native (little-endian) byte order;
 *  - any change to a layout bumps VR_SCHEMA_VERSION; Java refuses records of another version;
 *  - a new kind or enum value keeps the version (existing layouts are unchanged): a decoder of an
 *    older build rejects the unknown code as malformed rather than misreading it;
 *  - WireFormat.java mirrors every offset here and a test checks it against the object's BTF.
 *
 * Time: vr_header.ktime_ns is bpf_ktime_get_ns(), i.e. CLOCK_MONOTONIC in nanoseconds (no time
 * spent in suspend). On Linux, HotSpot's System.nanoTime() reads the same clock, so Java can
 * compare a record's age with System.nanoTime() directly.
 */
#ifndef VERIRUNTIME_H
#define VERIRUNTIME_H

#define VR_SCHEMA_VERSION 2

#define VR_COMM_LEN 16
#define VR_PATH_LEN 512     /* dentry-walk path, NUL-terminated, truncated from the left */
#define VR_FILENAME_LEN 256 /* bprm->filename as passed to execve */
#define VR_MEMFD_NAME_LEN 256

enum vr_kind {
	VR_KIND_EXEC = 1,
	VR_KIND_EXIT = 2,
	VR_KIND_EXEC_MAPPING = 3,
	VR_KIND_ANON_EXEC = 4,
	VR_KIND_INJECTION = 5,
	VR_KIND_MEMFD_CREATE = 6,
	VR_KIND_FILE_WRITE = 7,
	VR_KIND_TOOLCHAIN_WRITE = 8, /* struct vr_file_write: a regular file written by a toolchain process */
	VR_KIND_MAX = 9, /* size of the counters map; kinds are < VR_KIND_MAX */
};

/* vr_file.flags */
enum vr_file_flag {
	VR_FILE_MEMFD = 1,   /* name starts with "memfd:" on a shmem/hugetlbfs superblock */
	VR_FILE_DELETED = 2, /* i_nlink == 0 when the event fired */
	VR_FILE_SETUID = 4,  /* S_ISUID in i_mode */
	VR_FILE_SETGID = 8,  /* S_ISGID in i_mode */
	VR_FILE_TOOLCHAIN = 16, /* exec only: the executable is in vr_toolchain_exes; the task is marked */
};

/* path_flags of records carrying a dentry-walk path */
enum vr_path_flag {
	VR_PATH_TRUNCATED = 1,     /* too deep or too long: leading components are missing */
	VR_FILENAME_TRUNCATED = 2, /* bprm->filename longer than VR_FILENAME_LEN - 1 */
	VR_PATH_UNRESOLVED = 4,    /* no struct file could be read: path is empty */
	VR_EXEC_LATE = 8,          /* exec only: sent late for a process that started quietly */
};

/* vr_exec_mapping.source / vr_anon_exec.source */
enum vr_map_source {
	VR_SOURCE_MMAP = 1,
	VR_SOURCE_MPROTECT = 2,
};

/* vr_injection.technique */
enum vr_injection_technique {
	VR_INJECT_PTRACE = 1,
	VR_INJECT_PROCESS_VM_WRITEV = 2,
	VR_INJECT_PROC_MEM = 3, /* /proc/PID/mem or /proc/PID/task/TID/mem opened for writing */
	VR_INJECT_PROC_MEM_WRITE = 4, /* a write through such a descriptor: addr, count bytes */
	VR_INJECT_WRITE_DONE = 5,     /* at syscall exit: a PTRACE_POKETEXT/POKEDATA (request, addr)
				       * or process_vm_writev (request 0; count: bytes written) into
				       * another process succeeded, so its bytes have landed */
};

/* vr_file_write.operation */
enum vr_write_op {
	VR_WRITE_OPEN = 1,      /* open, openat, openat2 or creat with write access or O_TRUNC */
	VR_WRITE_FTRUNCATE = 2, /* ftruncate(2) succeeded */
	VR_WRITE_DONE = 3,      /* VR_KIND_TOOLCHAIN_WRITE only: the writer process is done (exit or
				 * exec); `file` is the file's final identity, fd is -1, no path */
};

/* Values of vr_watched_files: why the agent watches a file (bits, written by the agent). */
enum vr_watch_reason {
	VR_WATCH_VERIFIED = 1,    /* the agent verified it and caches the verdict */
	VR_WATCH_MAPPED_EXEC = 2, /* a running process maps it executable */
	VR_WATCH_SELF = 4,        /* the agent itself runs from it (jar, JVM, libbpf, probe) */
};

/* 56 bytes. pid is the kernel thread id, tgid the process id; uid/gid are the real ids. */
struct vr_header {
	__u16 version;
	__u16 kind;
	__u32 size;
	__u64 ktime_ns;
	__u32 pid;
	__u32 tgid;
	__u32 uid;
	__u32 gid;
	__u64 cgroup_id;
	char comm[VR_COMM_LEN];
};

/* 48 bytes: what the kernel says a file is (DESIGN: identity comes from the kernel). */
struct vr_file {
	__u64 dev;      /* super_block.s_dev, kernel encoding: major << 20 | minor */
	__u64 ino;
	__s64 ctime_ns; /* inode change time, seconds * 1e9 + nanoseconds */
	__s64 size;
	__u32 nlink;
	__u16 mode;       /* i_mode: file type and permission bits */
	__u16 flags;      /* enum vr_file_flag */
	__u32 generation; /* i_generation: tells apart files that had the same inode number in turn */
	__u32 magic;      /* super_block.s_magic, e.g. 0x01021994 tmpfs */
};

/* 896 bytes. Emitted from tp_btf/sched_process_exec after the new image is committed. */
struct vr_exec {
	struct vr_header hdr;
	__u32 ppid;     /* real_parent->tgid */
	__u32 old_pid;  /* thread id before exec (differs when a non-leader thread execs) */
	__u32 euid;
	__u32 egid;
	struct vr_file file;
	__u32 path_flags; /* enum vr_path_flag */
	__u16 path_len;     /* bytes in path, without the NUL */
	__u16 filename_len; /* bytes in filename, without the NUL */
	char filename[VR_FILENAME_LEN];
	char path[VR_PATH_LEN];
};

/* 64 bytes. Emitted once per process, when the last thread of the group exits. */
struct vr_exit {
	struct vr_header hdr;
	__s32 exit_code; /* task->exit_code: wait(2) status encoding, (code << 8) | signal */
	__u32 _pad;
};

/* 664 bytes. A successful file-backed mapping that is executable. */
struct vr_exec_mapping {
	struct vr_header hdr;
	__u64 addr;
	__u64 len;
	__u64 offset;   /* file offset in bytes (mmap: off; mprotect: vma pgoff << 12) */
	__u32 prot;
	__u32 map_flags; /* mmap flags; 0 for mprotect */
	__u32 source;    /* enum vr_map_source */
	__s32 fd;        /* -1 for mprotect */
	struct vr_file file;
	__u32 path_flags;
	__u16 path_len;
	__u16 _pad;
	char path[VR_PATH_LEN];
};

/* 88 bytes. Anonymous memory made executable: mmap(PROT_EXEC, MAP_ANONYMOUS or no file) or
 * mprotect adding PROT_EXEC to a mapping without a file that was not executable before. */
struct vr_anon_exec {
	struct vr_header hdr;
	__u64 addr;
	__u64 len;
	__u32 prot;
	__u32 map_flags;
	__u32 source;
	__u32 _pad;
};

/* 88 bytes. An attempt to write into or control another process: ptrace and process_vm_writev
 * seen at syscall entry (and a poke or process_vm_writev that succeeded again at its exit,
 * VR_INJECT_WRITE_DONE); /proc/PID/mem at the exit of a successful open for writing, and each
 * successful write through that descriptor at the exit of write, pwrite64, writev, pwritev(2). */
struct vr_injection {
	struct vr_header hdr;
	__u32 technique;  /* enum vr_injection_technique */
	__s32 target_pid; /* process id (tgid) of the target; for /proc/PID/mem too */
	__s64 request;    /* ptrace request; 0 for process_vm_writev; open flags for /proc/PID/mem;
			   * the syscall number for a /proc/PID/mem write */
	__u64 addr;       /* ptrace addr; remote iovec pointer for process_vm_writev; the target
			   * address a /proc/PID/mem write started at; else 0 */
	__u64 count;      /* ptrace data; remote iovec count for process_vm_writev; /proc/PID/mem:
			   * the thread id named in the path (the tgid for /proc/PID/mem); bytes
			   * written for a /proc/PID/mem write */
};

/* 328 bytes. Emitted at syscall exit: the kernel has then faulted the name in, which a
 * tracepoint cannot do at entry. */
struct vr_memfd_create {
	struct vr_header hdr;
	__u32 flags;    /* MFD_* flags */
	__s32 fd;       /* the new descriptor, or -errno */
	__u16 name_len; /* bytes in name, without the NUL */
	__u16 _pad[3];
	char name[VR_MEMFD_NAME_LEN];
};

/* 696 bytes. A file the agent watches (vr_watched_files) was opened for writing or truncated,
 * seen at the exit of the successful syscall through the resulting (or given) descriptor.
 * Also the layout of VR_KIND_TOOLCHAIN_WRITE: a regular file a toolchain process (its task marked
 * at exec from vr_toolchain_exes) opened for writing (VR_WRITE_OPEN, with path; watch is 0), and
 * its final identity when that process is done (VR_WRITE_DONE). */
struct vr_file_write {
	struct vr_header hdr;
	__u32 operation;         /* enum vr_write_op */
	__s32 fd;
	__u32 watch;             /* the vr_watched_files entry's reasons: enum vr_watch_reason bits */
	__u32 _pad;
	__u64 arg;               /* open flags (O_*) for VR_WRITE_OPEN; new length for ftruncate */
	struct vr_file file;     /* the written file, after the syscall */
	struct vr_file writer;   /* the writer's executable (mm->exe_file); zero when it has none */
	__u32 path_flags;        /* of the written file's path */
	__u16 path_len;
	__u16 _pad2;
	char path[VR_PATH_LEN];
};

/* Key of vr_watched_files: a file's identity without ctime and size, which a write changes. The
 * agent writes it (WireFormat mirrors it, the BTF test checks it). */
struct vr_watch_key {
	__u64 dev; /* s_dev, kernel encoding */
	__u64 ino;
};

/* Value of vr_watched_files, written by the agent. A file system gives a freed inode number to a
 * new file (ext4 does within seconds), so the entry names the file's i_generation too: a write into
 * an inode whose generation differs is a new file, not the watched one, and drops the stale entry
 * unreported. Generation 0: any file with that device and inode (the agent did not learn it). */
struct vr_watch {
	__u32 reasons;    /* enum vr_watch_reason bits, echoed in the record */
	__u32 generation;
};

/* Key of vr_verified_files: the identity part of struct vr_file. The agent writes it, so its layout
 * is a contract like the records' (WireFormat mirrors it, the BTF test checks it). */
struct vr_file_key {
	__u64 dev;
	__u64 ino;
	__s64 ctime_ns;
	__s64 size;
};

/* Value of vr_quiet_exes, written by the agent (zeroes and flags). With VR_QUIET_COUNT the file is no
 * verified executable but one the agent reported as unknown and now folds (an exec storm of it):
 * the probe also counts its execs here, and the agent reads the count for its repeat reports. */
struct vr_quiet_exe {
	__u64 execs;    /* VR_QUIET_COUNT: execs counted since the agent wrote the entry */
	__u64 first_ns; /* the first of them, CLOCK_MONOTONIC (0 before it) */
	__u64 last_ns;  /* the latest of them */
	__u32 last_pid; /* the tgid of the latest */
	__u32 flags;    /* enum vr_quiet_flags */
};

enum vr_quiet_flags {
	VR_QUIET_COUNT = 1,
};

/* Value of vr_quiet_tasks: a process whose exec vr_quiet_exes vouched for, so no exec record was
 * sent. The agent reads and deletes it when it adopts the process (it then reads /proc). */
struct vr_quiet_task {
	__u64 exec_ns; /* when it exec'd, CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u32 ppid;
	__u32 _pad;
};

/* Keys of vr_filtered: what the probe counted instead of reporting. */
enum vr_filtered_key {
	VR_FILTERED_MAPPINGS = 0, /* mmaps of files in vr_verified_files */
	VR_FILTERED_EXECS = 1,    /* execs of files in vr_quiet_exes */
	VR_FILTERED_EXITS = 2,    /* exits of processes in vr_quiet_tasks */
	VR_FILTERED_KEYS = 3,
};

/* Values of vr_follow_tasks: why the agent follows a process (bits). A followed process's execs
 * are always reported, quiet executable or not, and its children inherit the bits at fork. */
enum vr_follow_reason {
	VR_FOLLOW_INCIDENT = 1,  /* written by the agent: the process has an open incident */
	VR_FOLLOW_LINEAGE = 2,   /* exec'd a build root (vr_follow_exes), or descends from one */
	VR_FOLLOW_TOOLCHAIN = 4, /* exec'd a toolchain executable (vr_toolchain_exes), or descends */
	VR_FOLLOW_INHERITED = 8, /* set by the probe on a child that inherited its parent's bits */
};

/* Bits 8-15 of a vr_follow_tasks value with VR_FOLLOW_INCIDENT: how many forks below the process
 * with the incident (0: that process). Only VR_INCIDENT_GENERATIONS generations of descendants
 * inherit the incident: its children, grandchildren and great-grandchildren. What a suspicious
 * process runs next is in those; a supervisor with an open incident (a service manager or container
 * runtime run from a memfd) would otherwise have every exec of the whole tree below it reported
 * for as long as it lives. Lineage and toolchain bits have no bound (a build is deep). */
enum vr_follow_generation {
	VR_FOLLOW_GENERATION_SHIFT = 8,
	VR_FOLLOW_GENERATION_MASK = 0xff << VR_FOLLOW_GENERATION_SHIFT,
	VR_INCIDENT_GENERATIONS = 3,
};

/* Keys of vr_task_counts: what the probe did about followed and untracked processes. */
enum vr_task_count {
	VR_TASKS_FOLLOWED_EXECS = 0,  /* execs of quiet executables reported because followed */
	VR_TASKS_INHERITED = 1,       /* children that inherited following at fork */
	VR_TASKS_FOLLOW_DROPPED = 2,  /* follow entries refused: vr_follow_tasks was full */
	VR_TASKS_UNTRACKED_EXITS = 3, /* exits of forks that never exec'd, counted not reported */
	VR_TASKS_WATCH_STALE = 4,     /* vr_watched_files entries dropped: the inode is a new file */
	VR_TASKS_INCIDENT_DEPTH = 5,  /* children past VR_INCIDENT_GENERATIONS: incident not inherited */
	VR_TASK_COUNTS = 6,
};

/* Value of the per-CPU counters map, indexed by enum vr_kind: Java sums over CPUs. */
struct vr_counter {
	__u64 seen; /* records the probe tried to emit */
	__u64 lost; /* of which bpf_ringbuf_reserve failed: the ring buffer was full */
};

#endif /* VERIRUNTIME_H */
