/* Scenario program: writes two int3 bytes (0xcc) at address ADDR (hex) in the code of process PID,
 *   patcher ptrace PID ADDR    through PTRACE_ATTACH, PTRACE_PEEKTEXT/PTRACE_POKETEXT, PTRACE_DETACH
 *   patcher procmem PID ADDR   through pwrite() on /proc/PID/mem
 *   patcher vmwritev PID ADDR  through process_vm_writev() (the target's page must be writable:
 *                              patchable built with -DWRITABLE_CODE)
 * then prints "patched <pid>". The target keeps running (the bytes are in a function it never calls). */
#define _GNU_SOURCE /* process_vm_writev */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static int by_ptrace(pid_t pid, unsigned long addr) {
  if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) != 0) {
    perror("PTRACE_ATTACH");
    return 2;
  }
  int status;
  if (waitpid(pid, &status, 0) != pid) {
    perror("waitpid");
    return 2;
  }
  errno = 0;
  long word = ptrace(PTRACE_PEEKTEXT, pid, (void *)addr, NULL);
  if (errno != 0) {
    perror("PTRACE_PEEKTEXT");
    return 2;
  }
  word = (word & ~0xffffL) | 0xccccL;
  if (ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)word) != 0) {
    perror("PTRACE_POKETEXT");
    return 2;
  }
  if (ptrace(PTRACE_DETACH, pid, NULL, NULL) != 0) {
    perror("PTRACE_DETACH");
    return 2;
  }
  return 0;
}

static int by_proc_mem(pid_t pid, unsigned long addr) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
  int fd = open(path, O_RDWR);
  if (fd < 0) {
    perror("open /proc/PID/mem");
    return 2;
  }
  static const unsigned char int3[] = {0xcc, 0xcc};
  if (pwrite(fd, int3, sizeof int3, (off_t)addr) != (ssize_t)sizeof int3) {
    perror("pwrite /proc/PID/mem");
    return 2;
  }
  close(fd);
  return 0;
}

static int by_vm_writev(pid_t pid, unsigned long addr) {
  static unsigned char int3[] = {0xcc, 0xcc};
  struct iovec local = {int3, sizeof int3};
  struct iovec remote = {(void *)addr, sizeof int3};
  if (process_vm_writev(pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof int3) {
    perror("process_vm_writev");
    return 2;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: patcher ptrace|procmem|vmwritev PID ADDR\n");
    return 2;
  }
  pid_t pid = (pid_t)atoi(argv[2]);
  unsigned long addr = strtoul(argv[3], NULL, 16);
  int rc = strcmp(argv[1], "ptrace") == 0    ? by_ptrace(pid, addr)
           : strcmp(argv[1], "vmwritev") == 0 ? by_vm_writev(pid, addr)
                                              : by_proc_mem(pid, addr);
  if (rc == 0) {
    printf("patched %d\n", (int)pid);
  }
  return rc;
}
