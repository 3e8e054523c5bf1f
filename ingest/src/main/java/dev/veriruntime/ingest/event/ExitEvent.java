package dev.veriruntime.ingest.event;

import java.util.Objects;

/**
 * A process ended: the last thread of the thread group exited. From C {@code struct vr_exit}.
 *
 * @param exitCode {@code task->exit_code} in wait(2) status encoding
 */
public record ExitEvent(long kernelTimeNanos, TaskContext task, int exitCode)
    implements RuntimeEvent {
  public ExitEvent {
    Objects.requireNonNull(task, "task");
  }

  /** The exit status passed to exit(2) (meaningful when {@link #signal()} is 0). */
  public int exitStatus() {
    return (exitCode >>> 8) & 0xFF;
  }

  /** The signal that killed the process, 0 if it exited normally. */
  public int signal() {
    return exitCode & 0x7F;
  }
}
