/* Scenario program linked against the scenario library (libshared.so, found through its rpath):
 * calls it once, prints "ready <pid>" and sleeps (at most a minute). */
#include <stdio.h>
#include <unistd.h>

int veriruntime_scenario_shared(int x);

int main(void) {
  if (veriruntime_scenario_shared(1) != 7) {
    return 2;
  }
  printf("ready %d\n", (int)getpid());
  fflush(stdout);
  for (int i = 0; i < 60; i++) {
    sleep(1);
  }
  return 0;
}
