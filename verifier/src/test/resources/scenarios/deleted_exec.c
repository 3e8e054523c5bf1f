/* Scenario program: opens the ELF file argv[1], unlinks it, then executes it through the open file
 * descriptor with argv[1..]: the process runs a file that no longer has a name (a dropper that
 * removes its payload before running it looks like this). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: deleted_exec ELF [ARGS]\n");
    return 2;
  }
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0 || unlink(argv[1]) != 0) {
    perror("open/unlink");
    return 2;
  }
  extern char **environ;
  fexecve(fd, argv + 1, environ);
  perror("fexecve");
  return 2;
}
