package dev.veriruntime.verifier.process;

import java.io.IOException;

/** Memory at {@link #address()} could not be read although the process still exists. */
public final class UnreadableMemoryException extends IOException {
  private static final long serialVersionUID = 1L;
  private final long address;

  public UnreadableMemoryException(long address, String message, Throwable cause) {
    super(message, cause);
    this.address = address;
  }

  public long address() {
    return address;
  }
}
