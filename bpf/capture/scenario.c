// SPDX-License-Identifier: Apache-2.0
/*
 * scenario: a development tool that performs, once each, everything the probe reports, so that
 * vrcapture can record fixtures for every record kind:
 *   memfd_create + fexecve of the memfd, exec of a deleted file, ptrace attach/poke,
 *   process_vm_writev into a child, the child's /proc/PID/mem opened for writing, anonymous
 *   PROT_EXEC mmap, mprotect adding PROT_EXEC to anonymous memory and to a file mapping, an open
 *   with O_TRUNC and an ftruncate of /tmp/vrtest-watched (reported when vrcapture watches it:
 *   VR_WATCH=/tmp/vrtest-watched), and an exit with status 7.
 * Build: cc -O2 -o scenario scenario.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

static char *const true_argv[] = {"true", NULL};
static char *const no_env[] = {NULL};

static void copy_true(int to)
{
	int from = open("/usr/bin/true", O_RDONLY);
	struct stat st;

	fstat(from, &st);
	sendfile(to, from, NULL, st.st_size);
	close(from);
}

static void run_fd(int fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		syscall(SYS_execveat, fd, "", true_argv, no_env, AT_EMPTY_PATH);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

int main(void)
{
	/* memfd: create, fill, execute */
	int mfd = memfd_create("vrtest-payload", MFD_CLOEXEC);
	copy_true(mfd);
	run_fd(mfd);
	close(mfd);

	/* a deleted file, executed through its descriptor */
	char tmpl[] = "/tmp/vrtest-deletedXXXXXX";
	int dfd = mkstemp(tmpl);
	copy_true(dfd);
	fchmod(dfd, 0755);
	close(dfd);
	dfd = open(tmpl, O_RDONLY);
	unlink(tmpl);
	run_fd(dfd);
	close(dfd);

	/* ptrace and process_vm_writev against a child */
	static long target_word = 0;
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	usleep(50000);
	if (ptrace(PTRACE_ATTACH, child, NULL, NULL) == 0) {
		waitpid(child, NULL, 0);
		ptrace(PTRACE_POKEDATA, child, &target_word, (void *)0x4141);
		ptrace(PTRACE_DETACH, child, NULL, NULL);
	}
	long value = 0x4242;
	struct iovec local = {&value, sizeof(value)}, remote = {&target_word, sizeof(target_word)};
	process_vm_writev(child, &local, 1, &remote, 1, 0);
	char mem[64];
	snprintf(mem, sizeof(mem), "/proc/%d/mem", child);
	int memfd = open(mem, O_RDWR);
	if (memfd >= 0) {
		pwrite(memfd, &value, sizeof(value), (off_t)(long)&target_word);
		close(memfd);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);

	/* anonymous executable memory */
	void *anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *rw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(rw, 4096, PROT_READ | PROT_EXEC);

	/* a file mapped readable, then made executable */
	int lfd = open("/usr/bin/true", O_RDONLY);
	void *filemap = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, lfd, 4096);
	mprotect(filemap, 4096, PROT_READ | PROT_EXEC);
	close(lfd);

	/* a watched file: opened with O_TRUNC, then truncated through the descriptor */
	int wfd = open("/tmp/vrtest-watched", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (wfd >= 0) {
		write(wfd, "code", 4);
		ftruncate(wfd, 2);
		close(wfd);
	}

	printf("scenario pid=%d child=%d anon=%p rw=%p filemap=%p target=%p\n", getpid(), child, anon,
	       rw, filemap, (void *)&target_word);
	fflush(stdout);
	return 7;
}
