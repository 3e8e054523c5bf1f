/* Scenario program: attaches to the process argv[1] with PTRACE_ATTACH, waits until it stops
 * and detaches, leaving it running unchanged. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: ptrace_attach PID\n");
    return 2;
  }
  pid_t target = (pid_t)atoi(argv[1]);
  if (ptrace(PTRACE_ATTACH, target, NULL, NULL) != 0) {
    perror("PTRACE_ATTACH");
    return 2;
  }
  int status;
  if (waitpid(target, &status, 0) != target) {
    perror("waitpid");
    return 2;
  }
  if (ptrace(PTRACE_DETACH, target, NULL, NULL) != 0) {
    perror("PTRACE_DETACH");
    return 2;
  }
  printf("ready %d\n", (int)target);
  return 0;
}
