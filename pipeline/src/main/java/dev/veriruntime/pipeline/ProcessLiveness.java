package dev.veriruntime.pipeline;

import dev.veriruntime.verifier.process.ProcFs;
import java.io.IOException;
import java.util.OptionalLong;

/**
 * Whether a process still runs, by pid and start time (so a recycled pid is another process). The
 * live form reads {@code /proc}; tests give a map. Implementations are thread-safe.
 */
public interface ProcessLiveness {

  /** The start time (clock ticks after boot) of the process running as {@code pid} now, if any. */
  OptionalLong startTicks(int pid);

  /**
   * Whether {@code pid} still names the process that started at {@code startTicks}, not a zombie.
   */
  boolean stillRuns(int pid, long startTicks);

  /** The host's processes, through {@code /proc}. */
  static ProcessLiveness proc() {
    ProcFs fs = ProcFs.host();
    return new ProcessLiveness() {
      @Override
      public OptionalLong startTicks(int pid) {
        try {
          return fs.startTicksIfRunning(pid);
        } catch (IOException | RuntimeException e) {
          return OptionalLong.empty();
        }
      }

      @Override
      public boolean stillRuns(int pid, long startTicks) {
        try {
          return fs.stillRuns(pid, startTicks);
        } catch (IOException | RuntimeException e) {
          // Unreadable but not known to be gone: the incident stays open (the safer side).
          return true;
        }
      }
    };
  }
}
