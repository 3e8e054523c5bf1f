/* Scenario program: dlopen()s the library argv[1] at run time, prints "ready <pid>" and sleeps (at
 * most a minute). */
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: dlopener LIBRARY\n");
    return 2;
  }
  if (dlopen(argv[1], RTLD_NOW) == NULL) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 2;
  }
  printf("ready %d\n", (int)getpid());
  fflush(stdout);
  for (int i = 0; i < 60; i++) {
    sleep(1);
  }
  return 0;
}
