package dev.veriruntime.verifier.process;

import java.io.IOException;

/**
 * The file behind a mapping cannot be opened as itself (no access, or its path names another
 * inode).
 */
public final class MappedFileUnavailableException extends IOException {
  private static final long serialVersionUID = 1L;
  private final transient MemoryMapping mapping;

  public MappedFileUnavailableException(MemoryMapping mapping, String message, Throwable cause) {
    super(message, cause);
    this.mapping = mapping;
  }

  public MemoryMapping mapping() {
    return mapping;
  }
}
