package dev.veriruntime.ingest.event;

import java.util.Objects;

/**
 * A file was mapped executable: a successful {@code mmap} with {@code PROT_EXEC} of a file, or an
 * {@code mprotect} that added {@code PROT_EXEC} to a file-backed mapping. From C {@code struct
 * vr_exec_mapping}.
 *
 * @param address start of the mapping in the task's address space
 * @param length length in bytes as requested
 * @param fileOffset offset in the file, in bytes
 * @param prot {@code PROT_*} bits
 * @param mapFlags {@code MAP_*} flags ({@code 0} for mprotect)
 * @param fd the descriptor passed to mmap; {@code -1} for mprotect
 */
public record ExecMappingEvent(
    long kernelTimeNanos,
    TaskContext task,
    long address,
    long length,
    long fileOffset,
    int prot,
    int mapFlags,
    MappingSource source,
    int fd,
    ExecutableFile file)
    implements RuntimeEvent {
  public ExecMappingEvent {
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(file, "file");
  }
}
