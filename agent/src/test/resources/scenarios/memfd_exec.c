/* Scenario program: copies the ELF file argv[1] into a memfd and fexecve()s it with argv[1..]:
 * the process then runs code that exists on no file system. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: memfd_exec ELF [ARGS]\n");
    return 2;
  }
  int in = open(argv[1], O_RDONLY);
  int fd = memfd_create("veriruntime-scenario", MFD_CLOEXEC);
  if (in < 0 || fd < 0) {
    perror("open/memfd_create");
    return 2;
  }
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0) {
    if (write(fd, buf, (size_t)n) != n) {
      perror("write");
      return 2;
    }
  }
  close(in);
  extern char **environ;
  fexecve(fd, argv + 1, environ);
  perror("fexecve");
  return 2;
}
