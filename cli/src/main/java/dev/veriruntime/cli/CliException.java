package dev.veriruntime.cli;

/**
 * A failure the user can act on: its message is printed as one line (no stack trace) and the
 * process exits with {@link #exitCode()} from {@link ExitCodes}.
 */
public final class CliException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int exitCode;

  public CliException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  public CliException(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  public int exitCode() {
    return exitCode;
  }
}
