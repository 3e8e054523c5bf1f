package dev.veriruntime.ingest.kernel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

/** The scheduling priority (nice value) of this process's threads, through setpriority(2). */
public final class ThreadPriority {
  private static final int PRIO_PROCESS = 0;

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
   * The id of this process's first thread named {@code comm} (as /proc shows it: at most 15 bytes),
   * e.g. HotSpot's "VM Thread"; empty when there is none or /proc cannot be read.
   */
  public static OptionalInt threadNamed(String comm) {
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
      for (Path task : tasks) {
        try {
          if (Files.readString(task.resolve("comm")).strip().equals(comm)) {
            return OptionalInt.of(Integer.parseInt(task.getFileName().toString()));
          }
        } catch (IOException gone) {
          // the thread ended meanwhile
        }
      }
    } catch (IOException | UncheckedIOException e) {
      // no /proc: nothing found
    }
    return OptionalInt.empty();
  }
}
