/* Writes into a child's memory the ways a debugger or an injector does, for WriteWatchIT: a
 * PTRACE_POKEDATA, a process_vm_writev that fails (EFAULT: the remote address is unmapped), then
 * one that succeeds. Prints "<child pid> <address written>" and exits 0 when each call did what it
 * should; the child is killed before the exit. */
#define _GNU_SOURCE /* process_vm_writev */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile long word = 1;

int main(void) {
  pid_t child = fork();
  if (child < 0) {
    return 2;
  }
  if (child == 0) {
    for (;;) {
      pause();
    }
  }
  int status;
  int rc = 0;
  long value = 7;
  struct iovec local = {&value, sizeof value};
  struct iovec unmapped = {(void *)8, sizeof value};
  struct iovec remote = {(void *)&word, sizeof word};
  if (ptrace(PTRACE_ATTACH, child, NULL, NULL) != 0 || waitpid(child, &status, 0) != child ||
      ptrace(PTRACE_POKEDATA, child, (void *)&word, (void *)0x4242) != 0 ||
      ptrace(PTRACE_DETACH, child, NULL, NULL) != 0) {
    perror("ptrace");
    rc = 2;
  } else if (process_vm_writev(child, &local, 1, &unmapped, 1, 0) != -1 || errno != EFAULT) {
    fprintf(stderr, "process_vm_writev to an unmapped address did not fail with EFAULT\n");
    rc = 2;
  } else if (process_vm_writev(child, &local, 1, &remote, 1, 0) != (ssize_t)sizeof value) {
    perror("process_vm_writev");
    rc = 2;
  } else {
    printf("%d %lx\n", (int)child, (unsigned long)&word);
  }
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
  return rc;
}
