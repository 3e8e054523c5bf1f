package dev.veriruntime.pipeline;

import dev.veriruntime.ingest.event.ToolchainWriteEvent;

/**
 * Where the pipeline consults build lineage (DESIGN.md, "References"): files written by verified
 * toolchain processes inside a configured lineage root are trusted by their lineage. The {@link
 * TrackStage} hands every {@link ToolchainWriteEvent} to {@link #written} in ring-buffer order (so
 * a file's final identity is known before the exec of that file is verified), and the {@link
 * VerifyStage} passes every executable check through {@link #decide} before it is classified.
 *
 * <p>Implementations must be thread-safe and must not throw: {@link #decide} runs on the
 * verification threads and must answer with the given check when it has nothing to add.
 */
public interface BuildLineage {
  /** Lineage off: no record is kept, every check is returned as it is. */
  BuildLineage OFF =
      new BuildLineage() {
        @Override
        public void written(ToolchainWriteEvent event) {}

        @Override
        public ExecutableCheck decide(int pid, String what, ExecutableCheck check) {
          return check;
        }
      };

  /** A file opened for writing by a toolchain process, or its final identity. */
  void written(ToolchainWriteEvent event);

  /**
   * The check to classify for what {@code pid} executed or mapped: {@code check} itself, or one
   * whose verification carries a {@code LINEAGE} result.
   *
   * @param what "exec", "executable mapping" or "running process"
   */
  ExecutableCheck decide(int pid, String what, ExecutableCheck check);
}
