/* Scenario program: prints "ready <pid> <address of patch_target>" and sleeps (at most a minute).
 * patch_target is never called, so code patched there cannot crash the process. */
#include <stdio.h>
#include <unistd.h>

__attribute__((noinline, used)) int patch_target(int x) {
  return x * 7 + 3;
}

int main(void) {
  printf("ready %d %lx\n", (int)getpid(), (unsigned long)&patch_target);
  fflush(stdout);
  for (int i = 0; i < 60; i++) {
    sleep(1);
  }
  return 0;
}
