/* Test program: anonymous read-write-execute memory holding code that has run (a JIT or a loader
 * of injected code looks like this). Prints "ready <pid> <address>" and sleeps. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
  unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) {
    perror("mmap");
    return 2;
  }
  code[0] = 0xc3; /* ret */
  ((void (*)(void))code)();
  printf("ready %d %p\n", (int)getpid(), (void *)code);
  fflush(stdout);
  for (;;) {
    sleep(1);
  }
}
