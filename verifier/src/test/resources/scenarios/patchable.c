/* Scenario program: prints "ready <pid> <address of patch_target>" and sleeps (at most a minute).
 * patch_target is never called, so code patched there cannot crash the process.
 * Built with -DWRITABLE_CODE it first makes the page of patch_target writable (read, write,
 * execute), as a program that patches itself does: process_vm_writev, unlike ptrace and
 * /proc/PID/mem, cannot write into read-only pages. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

__attribute__((noinline, used)) int patch_target(int x) {
  return x * 7 + 3;
}

int main(void) {
#ifdef WRITABLE_CODE
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t start = (uintptr_t)&patch_target & ~(page - 1);
  uintptr_t end = ((uintptr_t)&patch_target + 2 + page - 1) & ~(page - 1); /* the patched bytes */
  if (mprotect((void *)start, end - start, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
    perror("mprotect");
    return 2;
  }
#endif
  printf("ready %d %lx\n", (int)getpid(), (unsigned long)&patch_target);
  fflush(stdout);
  for (int i = 0; i < 60; i++) {
    sleep(1);
  }
  return 0;
}
