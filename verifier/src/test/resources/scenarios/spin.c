/* Test program for process verification: prints "ready <pid>" and sleeps in a loop.
 * With an argument, dlopen()s that library first (a library outside the dependency closure).
 * On SIGUSR1 it dlopen()s the library named by $SPIN_LATE_LIB and prints "loaded" (an injection
 * long after start). patch_target is never called, so a test may overwrite its code without
 * crashing the process. */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t late_load;

static void on_usr1(int sig) {
  (void)sig;
  late_load = 1;
}

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
  signal(SIGUSR1, on_usr1);
  printf("ready %d\n", (int)getpid());
  fflush(stdout);
  for (;;) {
    sleep(1);
    if (late_load) {
      late_load = 0;
      const char *lib = getenv("SPIN_LATE_LIB");
      if (lib != NULL && dlopen(lib, RTLD_NOW) != NULL) {
        printf("loaded\n");
      } else {
        printf("failed\n");
      }
      fflush(stdout);
    }
  }
}
