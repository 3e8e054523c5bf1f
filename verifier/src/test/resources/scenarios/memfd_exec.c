/* Scenario program: memfd_exec NAME ELF [ARGS...] copies the ELF file into a memfd named NAME and
 * fexecve()s it with argv ELF ARGS..., so the process runs code that exists on no file system; the
 * kernel shows it as /memfd:NAME. Each user names its own memfd (veriruntime-test in the verifier's
 * tests, veriruntime-scenario in the agent's, veriruntime-demo in `veriruntime demo`) so its
 * assertions match only its own processes. Exits 2 when the copy fails, 3 when fexecve does. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: memfd_exec NAME ELF [ARGS...]\n");
    return 2;
  }
  int in = open(argv[2], O_RDONLY);
  int fd = memfd_create(argv[1], MFD_CLOEXEC);
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
  if (n < 0) {
    perror("read");
    return 2;
  }
  close(in);
  extern char **environ;
  fexecve(fd, argv + 2, environ);
  perror("fexecve");
  return 3;
}
