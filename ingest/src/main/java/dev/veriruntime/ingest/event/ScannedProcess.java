package dev.veriruntime.ingest.event;

import java.util.Objects;
import java.util.Optional;

/**
 * A process that was already running when VeriRuntime started, found by the start-up /proc scan. It
 * stands in for the exec event the probe never saw.
 *
 * @param kernelTimeNanos when the process was read ({@link System#nanoTime()}, CLOCK_MONOTONIC)
 * @param pid process id
 * @param ppid parent process id
 * @param uid real user id
 * @param gid real group id
 * @param comm command name from /proc/PID/comm
 * @param executable the file behind /proc/PID/exe (identity from stat, device converted to the
 *     kernel encoding); empty for kernel threads or when it could not be read
 */
public record ScannedProcess(
    long kernelTimeNanos,
    int pid,
    int ppid,
    int uid,
    int gid,
    String comm,
    Optional<ExecutableFile> executable)
    implements RuntimeEvent {
  public ScannedProcess {
    Objects.requireNonNull(comm, "comm");
    Objects.requireNonNull(executable, "executable");
  }
}
