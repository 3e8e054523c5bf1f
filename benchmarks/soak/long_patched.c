/* The soak's long-running patched process: prints "ready <pid> <address of patch_target>" and sleeps
 * until killed; the soak then writes two int3 bytes at that address through /proc/PID/mem (the
 * scenarios' patcher). patch_target is never called, so the patched code cannot crash it. */
#include <stdio.h>
#include <unistd.h>

__attribute__((noinline, used)) int patch_target(int x) {
  return x * 11 + 5;
}

int main(void) {
  printf("ready %d %lx\n", (int)getpid(), (unsigned long)&patch_target);
  fflush(stdout);
  for (;;) {
    sleep(60);
  }
}
