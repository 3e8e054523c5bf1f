package dev.veriruntime.ingest.event;

import java.util.Objects;

/**
 * A process called {@code memfd_create}: the usual first step of fileless execution. Reported when
 * the call returns. From C {@code struct vr_memfd_create}.
 *
 * @param name the name argument (the kernel shows it as {@code memfd:NAME}); may be truncated at
 *     255 bytes
 * @param flags {@code MFD_*} flags
 * @param fd the new descriptor, or {@code -errno} when the call failed
 */
public record MemfdCreateEvent(
    long kernelTimeNanos, TaskContext task, String name, int flags, int fd)
    implements RuntimeEvent {
  /** {@code MFD_EXEC}: the memfd may be executed. */
  public static final int MFD_EXEC = 0x0010;

  /** {@code MFD_NOEXEC_SEAL}: the memfd can never be executed. */
  public static final int MFD_NOEXEC_SEAL = 0x0008;

  /** The call succeeded. */
  public boolean succeeded() {
    return fd >= 0;
  }

  public MemfdCreateEvent {
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(name, "name");
  }
}
