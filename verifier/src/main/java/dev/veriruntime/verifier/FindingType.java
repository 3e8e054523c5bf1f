package dev.veriruntime.verifier;

/** The kinds of {@link Finding}. Add a constant rather than overloading an existing one. */
public enum FindingType {
  // Disk and ELF structure
  DIGEST_MISMATCH,
  UNKNOWN_BINARY,
  /** An unknown file whose bytes are a package command's: a copy under another name. */
  PACKAGE_FILE_COPY,
  MALFORMED_ELF,
  WRONG_MACHINE,
  WRITABLE_EXECUTABLE_SEGMENT,
  EXECUTABLE_STACK,
  TEXT_RELOCATIONS,
  SECTION_MISMATCH,
  SCRIPT_INTERPRETER,
  UNSIGNED_REFERENCE,
  SETUID_BINARY,
  // Runtime
  BINARY_DELETED,
  BINARY_REPLACED,
  MEMFD_EXECUTION,
  ANONYMOUS_EXECUTABLE_MEMORY,
  MEMFD_MAPPING,
  DELETED_MAPPING,
  UNVERIFIED_MAPPING,
  UNEXPECTED_LIBRARY,
  PRELOADED_LIBRARY,
  TRACER_ATTACHED,
  CODE_MODIFIED,
  PROCESS_GONE,
  READ_REFUSED,
  /** A note, not a failure: runs or maps the previous version of an upgraded package's file. */
  PREVIOUS_PACKAGE_VERSION,
  // Build lineage
  /**
   * Inside a lineage root, the file has no valid lineage: no verified toolchain process wrote it
   * (copied, downloaded) or something changed it after the toolchain was done (patched).
   */
  LINEAGE_BROKEN
}
