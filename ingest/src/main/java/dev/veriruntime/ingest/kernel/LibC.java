package dev.veriruntime.ingest.kernel;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.Out;
import jnr.ffi.types.size_t;

/**
 * The few libc functions the binding needs: libbpf log formatting, filesystem magic, a thread's
 * scheduling priority.
 */
public interface LibC {
  int vsnprintf(@Out byte[] buffer, @size_t long size, Pointer format, Pointer vaList);

  @jnr.ffi.annotations.SaveError
  int statfs(String path, @Out byte[] buffer);

  /** glibc: returns free heap memory to the system; 1 if any was released. */
  int malloc_trim(@size_t long pad);

  /** setpriority(2); with {@code which} = 0 (PRIO_PROCESS) and a thread id, that one thread. */
  @jnr.ffi.annotations.SaveError
  int setpriority(int which, int who, int prio);

  /** gettid(2) (glibc 2.30 or later). */
  int gettid();
}
