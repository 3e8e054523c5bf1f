package dev.veriruntime.verifier.process;

/**
 * Files the package manager replaced while processes may still run or map them: the previous
 * version of an upgraded package's file, named by its path and SHA-256, whose bytes were verified
 * before the upgrade replaced them. A process that runs or maps such a file runs the previous
 * version of the package until it is restarted; {@link MappingAnalyzer} and {@link ProcessVerifier}
 * note that ({@code PREVIOUS_PACKAGE_VERSION}) instead of reporting a replaced or deleted file.
 * Only files no longer at their path qualify: an old version put back in place is judged by the
 * current package record like any other file.
 *
 * <p>Implementations must be thread-safe; the set may grow while processes are verified.
 */
@FunctionalInterface
public interface SupersededFiles {
  /** No file was superseded. */
  SupersededFiles NONE = (path, sha256) -> false;

  /**
   * @param path the file's path as the kernel names it (without {@code " (deleted)"})
   * @param sha256 the SHA-256 of the bytes that run
   */
  boolean contains(String path, String sha256);
}
