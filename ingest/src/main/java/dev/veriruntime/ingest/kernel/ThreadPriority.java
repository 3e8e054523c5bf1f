package dev.veriruntime.ingest.kernel;

import java.util.Optional;

/** The scheduling priority (nice value) of the calling thread, through setpriority(2). */
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
    try {
      NativeLibraries libs = NativeLibraries.get();
      if (libs.libc.setpriority(PRIO_PROCESS, libs.libc.gettid(), nice) == 0) {
        return Optional.empty();
      }
      return Optional.of("setpriority: " + Errno.describe(libs.lastErrno()));
    } catch (BpfException | LinkageError e) {
      return Optional.of("setpriority unavailable: " + e.getMessage());
    }
  }
}
