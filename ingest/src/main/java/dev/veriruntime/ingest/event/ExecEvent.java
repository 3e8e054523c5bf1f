package dev.veriruntime.ingest.event;

import java.util.Objects;

/**
 * A process executed a new image ({@code execve}/{@code execveat} succeeded). From C {@code struct
 * vr_exec}. {@link #task()} describes the task after the exec (new comm, credentials already
 * committed).
 *
 * @param ppid the parent's process id ({@code real_parent->tgid})
 * @param oldPid thread id before exec; differs from {@code task().pid()} when a non-leader thread
 *     called exec
 * @param euid effective user id after exec (differs from the real uid for set-uid binaries)
 * @param egid effective group id after exec
 * @param filename the name passed to exec ({@code bprm->filename}), as the caller spelled it
 * @param filenameTruncated {@link #filename()} was cut at 255 bytes
 * @param file the executed file ({@code bprm->file}); for scripts this is the script itself
 * @param late sent late, just before another record of a process whose exec the probe counted
 *     instead of sending it (see {@code WireFormat.EXEC_LATE}): this exec is counted already
 */
public record ExecEvent(
    long kernelTimeNanos,
    TaskContext task,
    int ppid,
    int oldPid,
    int euid,
    int egid,
    String filename,
    boolean filenameTruncated,
    ExecutableFile file,
    boolean late)
    implements RuntimeEvent {
  public ExecEvent {
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(filename, "filename");
    Objects.requireNonNull(file, "file");
  }
}
