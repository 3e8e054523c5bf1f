package dev.veriruntime.api.intake;

/** What an accepted alert makes the agent verify: a running process, or a file on the host. */
public sealed interface AlertTarget {

  /**
   * A process that was running when the alert arrived.
   *
   * @param startTicks its start time ({@code /proc/PID/stat} field 22): the pid's identity
   */
  record Process(int pid, long startTicks) implements AlertTarget {}

  /** An executable on the host, by absolute path. */
  record Binary(String path) implements AlertTarget {}

  /** "pid 4242" or the path: for receipts and notes. */
  default String describe() {
    return this instanceof Process p ? "pid " + p.pid() : ((Binary) this).path();
  }
}
