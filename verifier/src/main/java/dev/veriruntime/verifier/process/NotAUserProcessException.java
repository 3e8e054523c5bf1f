package dev.veriruntime.verifier.process;

import java.io.IOException;

/** The pid names a kernel thread (no executable, no user memory): there is nothing to verify. */
public final class NotAUserProcessException extends IOException {
  private static final long serialVersionUID = 1L;

  public NotAUserProcessException(String message) {
    super(message);
  }
}
