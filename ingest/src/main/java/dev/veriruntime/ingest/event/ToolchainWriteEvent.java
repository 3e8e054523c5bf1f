package dev.veriruntime.ingest.event;

import dev.veriruntime.verifier.FileIdentity;
import java.util.Objects;

/**
 * A regular file written by a toolchain process (one whose executable the agent put in the probe's
 * toolchain map, see {@code Probe.markToolchain}), for build lineage. From C {@code struct
 * vr_file_write} with kind {@code VR_KIND_TOOLCHAIN_WRITE}.
 *
 * <p>Two phases per file and writer: {@link Phase#OPENED} when the process opened it for writing
 * (with the path), and {@link Phase#DONE} when the process is done (it exited or executed something
 * else): then {@code file} holds the final identity (including the linker's own {@code chmod} after
 * closing) and the path is empty. Within one writer, every OPENED precedes its DONE.
 *
 * @param phase opened, or done with the final identity
 * @param file the written file: identity (at the phase), and path for OPENED
 * @param writerExecutable identity of the writer's executable; null when it has none
 */
public record ToolchainWriteEvent(
    long kernelTimeNanos,
    TaskContext task,
    Phase phase,
    ExecutableFile file,
    FileIdentity writerExecutable)
    implements RuntimeEvent {

  /** When the record was emitted. */
  public enum Phase {
    /** At the exit of a successful open for writing (or with O_TRUNC) of a regular file. */
    OPENED,
    /** At the writer's exit or exec: the final identity. */
    DONE
  }

  public ToolchainWriteEvent {
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(phase, "phase");
    Objects.requireNonNull(file, "file");
  }
}
