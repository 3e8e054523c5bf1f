/* Scenario program: prints "ready <pid>"; with the argument "once" it exits at once, otherwise it
 * sleeps (at most a minute, so a test that dies cannot leave it behind for long). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  printf("ready %d\n", (int)getpid());
  fflush(stdout);
  if (argc > 1 && strcmp(argv[1], "once") == 0) {
    return 0;
  }
  for (int i = 0; i < 60; i++) {
    sleep(1);
  }
  return 0;
}
