package dev.veriruntime.pipeline;

import dev.veriruntime.ingest.event.ExecutableFile;
import dev.veriruntime.verifier.FileIdentity;
import java.time.Instant;
import java.util.Optional;

/**
 * Where the pipeline tells the kernel probe which files' executable mappings need no report: a file
 * whose mapping was classified VERIFIED with nothing to report is handed to {@link #skip}, and the
 * probe then counts further mappings of that exact identity instead of sending them (see {@code
 * Probe.skipMappingsOf}). The probe still reports the file if it is deleted or a memfd, and a
 * changed file has a new identity. {@link #reset} forgets every file, for when trust changes.
 *
 * <p>Implementations must be thread-safe and must not throw: a filter that fails only costs
 * throughput, never an event.
 */
public interface MappingFilter {
  /** No kernel filtering (tests, replays). */
  MappingFilter NONE =
      new MappingFilter() {
        @Override
        public void skip(ExecutableFile file) {}

        @Override
        public void reset() {}
      };

  /** Mappings of {@code file} (its kernel identity) need not be reported from now on. */
  void skip(ExecutableFile file);

  /**
   * Execs of {@code file} need not be reported from now on: the probe counts them and keeps the
   * processes for adoption (see {@link ProcessTable.Adopter}). Called for an executable whose exec
   * was classified VERIFIED with nothing to report. No-op by default.
   */
  default void skipExecs(ExecutableFile file) {}

  /**
   * Execs of {@code file}, an executable reported as unknown whose repeats the incident book folds
   * (an exec storm), are counted in the kernel from now on instead of reported (see {@code
   * Probe.countExecsOf}); processes that live on are adopted as after {@link #skipExecs}.
   *
   * @return false when the kernel cannot count them (the execs are then reported as usual)
   */
  default boolean countExecs(FileIdentity file) {
    return false;
  }

  /**
   * What the kernel counted for a file given to {@link #countExecs} since then; empty once it no
   * longer counts it (evicted, {@link #reset}, {@link #stopCounting}): its execs are reported
   * again.
   */
  default Optional<ExecCount> execCount(FileIdentity file) {
    return Optional.empty();
  }

  /** Execs of {@code file} are reported again (it was given to {@link #countExecs}). */
  default void stopCounting(FileIdentity file) {}

  /**
   * Execs the kernel counted: how many, the first and the latest (their time and the latest's pid).
   */
  record ExecCount(long execs, Instant first, Instant last, int lastPid) {}

  /** Report every mapping (and every exec) again. */
  void reset();
}
