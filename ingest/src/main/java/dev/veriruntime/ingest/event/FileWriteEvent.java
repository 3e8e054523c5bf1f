package dev.veriruntime.ingest.event;

import dev.veriruntime.verifier.FileIdentity;
import java.util.Objects;
import java.util.Set;

/**
 * A file the agent watches (see {@code Probe.watchWrites}) was opened for writing or truncated,
 * seen in the kernel at the exit of the successful system call. Only watched files are reported, so
 * every such event deserves attention. From C {@code struct vr_file_write}.
 *
 * @param operation what the writer did
 * @param fd the descriptor the writer holds (the new one for an open)
 * @param argument the open flags ({@code O_*}) for {@link FileWriteOperation#OPEN_FOR_WRITE}; the
 *     new length for {@link FileWriteOperation#FTRUNCATE}
 * @param reasons why the agent watches the file, as it said when it asked
 * @param file the written file after the call: identity (ctime and size may already be new), path
 * @param writerExecutable the identity of the writer's executable ({@code mm->exe_file}); null when
 *     the writer has none (a kernel thread)
 */
public record FileWriteEvent(
    long kernelTimeNanos,
    TaskContext task,
    FileWriteOperation operation,
    int fd,
    long argument,
    Set<WatchReason> reasons,
    ExecutableFile file,
    FileIdentity writerExecutable)
    implements RuntimeEvent {
  private static final long O_TRUNC = 01000;

  public FileWriteEvent {
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(operation, "operation");
    Objects.requireNonNull(file, "file");
    reasons = Set.copyOf(reasons);
  }

  /** The call itself changed the file's size: ftruncate, or an open with O_TRUNC. */
  public boolean truncated() {
    return operation == FileWriteOperation.FTRUNCATE || (argument & O_TRUNC) != 0;
  }
}
