package dev.veriruntime.ingest.kernel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * tracefs, through which libbpf finds a tracepoint by name ({@code
 * /sys/kernel/tracing/events/CATEGORY/NAME/id}), without changing the host. A fresh host does not
 * mount it, and mounting it there would change what every other program on the host sees. So when
 * the host has none, the action runs on a thread of its own that first moves into a mount namespace
 * of its own ({@code unshare(CLONE_NEWNS)} moves only the calling thread), makes every mount in it
 * private, so that nothing propagates back to the host, and mounts tracefs in it. The thread, its
 * namespace and that mount end with the action; what the action opened (perf events, BPF links)
 * belongs to the process and stays valid. Needs CAP_SYS_ADMIN, as loading the probe does.
 */
public final class Tracefs {
  /** Where tracefs is mounted by convention, and where libbpf looks for it. */
  public static final Path DIRECTORY = Path.of("/sys/kernel/tracing");

  private static final int CLONE_NEWNS = 0x00020000;
  private static final long MS_REC = 0x4000;
  private static final long MS_PRIVATE = 0x40000;

  private Tracefs() {}

  /** Whether the host has tracefs mounted at {@link #DIRECTORY} (its events directory exists). */
  public static boolean mountedOnHost() {
    return Files.isDirectory(DIRECTORY.resolve("events"));
  }

  /**
   * Runs {@code action} with tracefs mounted, giving it the events directory: on the calling thread
   * when the host has tracefs, else on a new thread in a mount namespace of its own (see the class
   * comment), which the call waits for.
   *
   * @throws BpfException when the namespace or the mount cannot be made (with the errno)
   */
  public static <T> T call(Function<Path, T> action) {
    if (mountedOnHost()) {
      return action.apply(DIRECTORY.resolve("events"));
    }
    AtomicReference<T> result = new AtomicReference<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread thread =
        new Thread(
            () -> {
              try {
                mountPrivately();
                result.set(action.apply(DIRECTORY.resolve("events")));
              } catch (Throwable t) {
                failure.set(t);
              }
            },
            "veriruntime-tracefs");
    thread.setDaemon(true);
    thread.start();
    boolean interrupted = false;
    while (true) {
      try {
        thread.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true; // the action holds kernel objects: wait for it to hand them over
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    Throwable t = failure.get();
    if (t instanceof RuntimeException e) {
      throw e;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return result.get();
  }

  private static void mountPrivately() {
    NativeLibraries libs = NativeLibraries.get();
    if (libs.libc.unshare(CLONE_NEWNS) != 0) {
      int errno = libs.lastErrno();
      throw new BpfException(
          "cannot make a mount namespace for tracefs: " + Errno.describe(errno), errno);
    }
    if (libs.libc.mount(null, "/", null, MS_REC | MS_PRIVATE, null) != 0) {
      int errno = libs.lastErrno();
      throw new BpfException(
          "cannot make the mounts of tracefs's namespace private: " + Errno.describe(errno), errno);
    }
    if (libs.libc.mount("tracefs", DIRECTORY.toString(), "tracefs", 0, null) != 0) {
      int errno = libs.lastErrno();
      throw new BpfException(
          "cannot mount tracefs on " + DIRECTORY + ": " + Errno.describe(errno), errno);
    }
  }
}
