/* Helper of `veriruntime demo` where python3 is missing: copies the ELF file argv[1] into an
 * anonymous memfd and executes it from there with argv[1..], code that exists on no file system. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv, char **envp) {
  struct stat st;
  int in = argc > 1 ? open(argv[1], O_RDONLY) : -1;
  int fd = memfd_create("veriruntime-demo", MFD_CLOEXEC);
  if (in < 0 || fd < 0 || fstat(in, &st) != 0 || sendfile(fd, in, NULL, (size_t)st.st_size) != st.st_size) {
    return 2;
  }
  fexecve(fd, argv + 1, envp);
  return 3;
}
