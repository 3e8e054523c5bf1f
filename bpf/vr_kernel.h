/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The few kernel types the probe reads, instead of a 3 MB vmlinux.h. Only the members used are
 * declared: preserve_access_index makes clang emit CO-RE relocations by name, and libbpf resolves
 * them against the running kernel's BTF (/sys/kernel/btf/vmlinux) at load time, so member order and
 * offsets here do not matter. Names with a ___suffix are "flavours" of the same kernel type, used to
 * probe for fields that were renamed across kernel versions.
 */
#ifndef VR_KERNEL_H
#define VR_KERNEL_H

#include <linux/types.h>
#include <linux/bpf.h>

typedef __u32 u32;
typedef __u64 u64;
typedef __s64 time64_t;
typedef int pid_t;
typedef _Bool bool;
#define true 1
#define false 0

#define PAI __attribute__((preserve_access_index))

struct timespec64 {
	time64_t tv_sec;
	long tv_nsec;
} PAI;

struct super_block {
	unsigned int s_dev;
	unsigned long s_magic;
} PAI;

struct inode {
	unsigned short i_mode;
	struct super_block *i_sb;
	unsigned long i_ino;
	unsigned int i_nlink; /* in an anonymous union with __i_nlink; CO-RE looks inside */
	long long i_size;
	u32 i_generation;
	time64_t i_ctime_sec; /* 6.11+: split into seconds and nanoseconds */
	u32 i_ctime_nsec;
} PAI;

struct inode___timespec { /* 6.6 .. 6.10 */
	struct timespec64 __i_ctime;
} PAI;

struct inode___old { /* before 6.6 */
	struct timespec64 i_ctime;
} PAI;

struct qstr {
	u32 len; /* in an anonymous struct inside a union with hash_len */
	const unsigned char *name;
} PAI;

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
	struct inode *d_inode;
} PAI;

struct vfsmount {
	struct dentry *mnt_root;
	struct super_block *mnt_sb;
} PAI;

struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
} PAI;

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
} PAI;

struct file {
	struct path f_path;
	struct inode *f_inode;
	unsigned int f_mode; /* fmode_t */
	void *private_data; /* /proc/PID/mem: the target's struct mm_struct */
	long long f_pos;    /* loff_t */
} PAI;

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} PAI;

struct files_struct {
	struct fdtable *fdt;
} PAI;

typedef struct {
	unsigned int val;
} kuid_t;

typedef struct {
	unsigned int val;
} kgid_t;

struct cred {
	kuid_t euid;
	kgid_t egid;
} PAI;

struct thread_info {
	u32 status; /* x86: TS_COMPAT while a 32-bit syscall runs */
} PAI;

struct mm_struct {
	struct file *exe_file; /* in an anonymous struct; CO-RE looks inside */
} PAI;

struct hlist_node {
	struct hlist_node *next;
} PAI;

struct hlist_head {
	struct hlist_node *first;
} PAI;

struct task_struct {
	struct thread_info thread_info;
	pid_t pid;
	pid_t tgid;
	int exit_code;
	struct task_struct *real_parent;
	struct files_struct *files;
	const struct cred *cred;
	struct mm_struct *mm;
	struct hlist_node pid_links[4]; /* indexed by enum pid_type; PIDTYPE_PID is 0 */
} PAI;

struct pid {
	struct hlist_head tasks[4]; /* tasks[PIDTYPE_PID].first is the task's pid_links[0] */
} PAI;

/* The inode of a /proc file: its vfs_inode is what struct file points to. */
struct proc_inode {
	struct pid *pid;
	struct inode vfs_inode;
} PAI;

struct linux_binprm {
	struct file *file;
	const char *filename;
	const char *interp; /* == filename unless a script or binfmt_misc handler changed it */
} PAI;

struct vm_area_struct {
	unsigned long vm_start;
	unsigned long vm_end;
	unsigned long vm_flags; /* vm_flags_t, in an anonymous union with __vm_flags */
	unsigned long vm_pgoff;
	struct file *vm_file;
} PAI;

/*
 * The user registers the raw syscall tracepoints (tp_btf/sys_enter, tp_btf/sys_exit) hand over.
 * Only the registers that carry syscall arguments and the syscall number are declared.
 */
#if defined(__TARGET_ARCH_x86)
struct pt_regs {
	unsigned long di;
	unsigned long si;
	unsigned long dx;
	unsigned long r10;
	unsigned long r8;
	unsigned long r9;
	unsigned long orig_ax; /* the syscall number, also at sys_exit */
} PAI;
#elif defined(__TARGET_ARCH_arm64)
struct pt_regs {
	u64 regs[31]; /* in an anonymous union with user_regs; x0 becomes the return value */
	u64 orig_x0;
	int syscallno;
} PAI;
#endif

/* Only probed (bpf_core_field_exists): the tracepoint gained group_dead with this field. */
struct trace_event_raw_sched_process_exit {
	pid_t pid;
	bool group_dead;
} PAI;

#undef PAI

#endif /* VR_KERNEL_H */
