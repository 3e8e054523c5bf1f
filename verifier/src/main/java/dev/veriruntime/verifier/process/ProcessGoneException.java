package dev.veriruntime.verifier.process;

import java.io.IOException;

/** The process exited (or never existed): what was asked of it can no longer be read. */
public final class ProcessGoneException extends IOException {
  private static final long serialVersionUID = 1L;
  private final int pid;

  public ProcessGoneException(int pid, String message) {
    super(message);
    this.pid = pid;
  }

  public ProcessGoneException(int pid, String message, Throwable cause) {
    super(message, cause);
    this.pid = pid;
  }

  public int pid() {
    return pid;
  }

  /**
   * None: a process's end is an expected answer, met for every exited process a check looks at, and
   * its stack trace was most of what meeting it cost.
   */
  @Override
  public synchronized Throwable fillInStackTrace() {
    return this;
  }
}
