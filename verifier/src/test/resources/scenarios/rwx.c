/* Scenario program: maps anonymous read-write-execute memory, copies a "ret" into it and calls it,
 * as a loader of injected code or an unlisted JIT would. Prints "ready <pid> <address>" and sleeps
 * (at most a minute, so a test that dies cannot leave it behind for long). */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
  static const unsigned char ret[] = {0xc3};
  unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) {
    perror("mmap");
    return 2;
  }
  memcpy(code, ret, sizeof ret);
  ((void (*)(void))code)();
  printf("ready %d %p\n", (int)getpid(), (void *)code);
  fflush(stdout);
  for (int i = 0; i < 60; i++) {
    sleep(1);
  }
  return 0;
}
