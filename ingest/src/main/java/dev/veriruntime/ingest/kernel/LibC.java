package dev.veriruntime.ingest.kernel;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.intptr_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.u_int64_t;

/**
 * The few libc functions the binding needs: libbpf log formatting, filesystem magic, mapping and
 * waiting on a ring-buffer map and ending that wait from another thread ({@link BpfRingBuffer};
 * addresses are passed as {@code long}), a thread's scheduling priority ({@link ThreadPriority}),
 * and a mount namespace of one thread's own ({@link Tracefs}).
 */
public interface LibC {
  int vsnprintf(@Out byte[] buffer, @size_t long size, Pointer format, Pointer vaList);

  @SaveError
  int statfs(String path, @Out byte[] buffer);

  /** glibc: returns free heap memory to the system; 1 if any was released. */
  int malloc_trim(@size_t long pad);

  int getpagesize();

  /**
   * Returns the mapped address, or {@code MAP_FAILED} (-1) with errno set. The hint is a {@link
   * Pointer} (null): declared as a {@code long}, jnr-ffi 2.2.16 passed the six arguments so that
   * mmap failed with EINVAL.
   */
  @SaveError
  @intptr_t
  long mmap(
      Pointer hint, @size_t long length, int protection, int flags, int fd, @off_t long offset);

  @SaveError
  int munmap(@intptr_t long address, @size_t long length);

  @SaveError
  int epoll_create1(int flags);

  /** {@code event} points to a {@code struct epoll_event}. */
  @SaveError
  int epoll_ctl(int epollFd, int operation, int fd, Pointer event);

  /** {@code events} points to {@code maxEvents} {@code struct epoll_event}s. */
  @SaveError
  int epoll_wait(int epollFd, Pointer events, int maxEvents, int timeoutMillis);

  int close(int fd);

  /**
   * eventfd(2): a descriptor whose counter {@link #eventfd_write} raises (readable while non-zero).
   */
  @SaveError
  int eventfd(int initialValue, int flags);

  /** glibc: adds {@code value} to an eventfd's counter; 0, or -1 with errno set. */
  @SaveError
  int eventfd_write(int fd, long value);

  /** setpriority(2); with {@code which} = 0 (PRIO_PROCESS) and a thread id, that one thread. */
  @SaveError
  int setpriority(int which, int who, int prio);

  /**
   * syscall(2) for sched_setattr(tid, attr, flags), which glibc before 2.41 does not wrap; {@code
   * attr} is a {@code struct sched_attr}.
   */
  @SaveError
  long syscall(long number, int tid, byte[] attr, int flags);

  /** gettid(2) (glibc 2.30 or later). */
  int gettid();

  /** unshare(2): with CLONE_NEWNS, the calling thread gets a mount namespace of its own. */
  @SaveError
  int unshare(int flags);

  /** mount(2); {@code source}, {@code type} and {@code data} may be null. */
  @SaveError
  int mount(String source, String target, String type, @u_int64_t long flags, Pointer data);
}
