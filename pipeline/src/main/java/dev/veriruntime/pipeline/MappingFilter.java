package dev.veriruntime.pipeline;

import dev.veriruntime.verifier.FileIdentity;

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
        public void skip(FileIdentity file) {}

        @Override
        public void reset() {}
      };

  /** Mappings of {@code file} (kernel identity) need not be reported from now on. */
  void skip(FileIdentity file);

  /**
   * Execs of {@code file} need not be reported from now on: the probe counts them and keeps the
   * processes for adoption (see {@link ProcessTable.Adopter}). Called for an executable whose exec
   * was classified VERIFIED with nothing to report. No-op by default.
   */
  default void skipExecs(FileIdentity file) {}

  /** Report every mapping (and every exec) again. */
  void reset();
}
