package dev.veriruntime.ingest.kernel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The scheduling priority of this process's threads: nice values through setpriority(2), the
 * real-time policy through sched_setattr(2).
 */
public final class ThreadPriority {
  private static final int PRIO_PROCESS = 0;
  // struct sched_attr as of Linux 3.14 (SCHED_ATTR_SIZE_VER0): size (u32), policy (u32), flags
  // (u64), nice (s32), priority (u32), runtime, deadline, period (u64 each).
  private static final int SCHED_ATTR_SIZE = 48;
  private static final int PRIORITY_OFFSET = 20;
  private static final int SCHED_FIFO = 1;
  private static final long SCHED_FLAG_RESET_ON_FORK = 1;

  private ThreadPriority() {}

  /**
   * Sets the calling thread's nice value (on Linux, setpriority of a thread id applies to that
   * thread alone). Going below 0 needs CAP_SYS_NICE.
   *
   * @return empty when set, otherwise why not (one line)
   */
  public static Optional<String> setNice(int nice) {
    return setNice(0, nice);
  }

  /**
   * Sets the nice value of thread {@code tid} of this process (0: the calling thread), e.g. a JVM
   * thread that runs no Java code.
   *
   * @return empty when set, otherwise why not (one line)
   */
  public static Optional<String> setNice(int tid, int nice) {
    try {
      NativeLibraries libs = NativeLibraries.get();
      int thread = tid == 0 ? libs.libc.gettid() : tid;
      if (libs.libc.setpriority(PRIO_PROCESS, thread, nice) == 0) {
        return Optional.empty();
      }
      return Optional.of("setpriority: " + Errno.describe(libs.lastErrno()));
    } catch (BpfException | LinkageError e) {
      return Optional.of("setpriority unavailable: " + e.getMessage());
    }
  }

  /**
   * Makes the calling thread real-time through sched_setattr(2): SCHED_FIFO at {@code priority} (1
   * is the lowest), with reset-on-fork, so the threads it starts run at the default policy and nice
   * value. A real-time thread runs as soon as it wakes, ahead of every ordinary thread on its CPU;
   * the kernel caps what all real-time threads together may take (sched_rt_runtime_us, 95 % of each
   * second by default). Needs CAP_SYS_NICE; a kernel with real-time group scheduling also refuses
   * it in a cgroup that was given no real-time budget.
   *
   * @return empty when set, otherwise why not (one line)
   */
  public static Optional<String> setRealtime(int priority) {
    try {
      NativeLibraries libs = NativeLibraries.get();
      long setattr = schedSetattr();
      if (setattr < 0) {
        return Optional.of("no sched_setattr number for " + System.getProperty("os.arch"));
      }
      ByteBuffer attr = ByteBuffer.allocate(SCHED_ATTR_SIZE).order(ByteOrder.nativeOrder());
      attr.putInt(0, SCHED_ATTR_SIZE).putInt(4, SCHED_FIFO).putLong(8, SCHED_FLAG_RESET_ON_FORK);
      attr.putInt(PRIORITY_OFFSET, priority);
      if (libs.libc.syscall(setattr, libs.libc.gettid(), attr.array(), 0) == 0) {
        return Optional.empty();
      }
      return Optional.of("sched_setattr: " + Errno.describe(libs.lastErrno()));
    } catch (BpfException | LinkageError e) {
      return Optional.of("sched_setattr unavailable: " + e.getMessage());
    }
  }

  /** sched_setattr's number on this architecture, or -1 when not known here. */
  private static long schedSetattr() {
    return switch (System.getProperty("os.arch")) {
      case "amd64", "x86_64" -> 314;
      case "aarch64", "riscv64" -> 274;
      default -> -1;
    };
  }

  /**
   * The ids of this process's threads whose name (as /proc shows it: at most 15 bytes) starts with
   * one of {@code prefixes}, e.g. HotSpot's "VM Thread" or the parallel collector's "GC Thread#";
   * empty when there is none or /proc cannot be read.
   */
  public static List<Integer> threadsNamed(String... prefixes) {
    List<Integer> tids = new ArrayList<>();
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
      for (Path task : tasks) {
        try {
          String comm = Files.readString(task.resolve("comm"));
          if (Arrays.stream(prefixes).anyMatch(comm::startsWith)) {
            tids.add(Integer.parseInt(task.getFileName().toString()));
          }
        } catch (IOException gone) {
          // the thread ended meanwhile
        }
      }
    } catch (IOException | UncheckedIOException e) {
      // no /proc: nothing found
    }
    return tids;
  }
}
