package dev.veriruntime.ingest.event;

import java.util.Objects;

/**
 * Memory without a file became executable: {@code mmap} with {@code PROT_EXEC} and no file ({@code
 * MAP_ANONYMOUS}), or {@code mprotect} adding {@code PROT_EXEC} to a non-executable mapping that
 * has no file. JITs do this legitimately; policy decides. From C {@code struct vr_anon_exec}.
 */
public record AnonymousExecEvent(
    long kernelTimeNanos,
    TaskContext task,
    long address,
    long length,
    int prot,
    int mapFlags,
    MappingSource source)
    implements RuntimeEvent {
  public AnonymousExecEvent {
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(source, "source");
  }
}
