/* Test program for process verification: prints "ready <pid>" and sleeps in a loop.
 * With an argument, dlopen()s that library first (a library outside the dependency closure).
 * patch_target is never called, so a test may overwrite its code without crashing the process. */
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

__attribute__((noinline, used)) int patch_target(int x) {
  int y = x * 7;
  for (int i = 0; i < x; i++) {
    y ^= i * 13 + 5;
  }
  return y + 42;
}

int main(int argc, char **argv) {
  if (argc > 1 && dlopen(argv[1], RTLD_NOW) == NULL) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 2;
  }
  printf("ready %d\n", (int)getpid());
  fflush(stdout);
  for (;;) {
    sleep(1);
  }
}
