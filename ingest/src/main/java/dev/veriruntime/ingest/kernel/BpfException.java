package dev.veriruntime.ingest.kernel;

/**
 * A libbpf or BPF syscall failure. {@link #errno()} is the positive errno (0 when the failure is
 * not an errno, e.g. libbpf itself is missing); the message names the operation and the errno text.
 */
public class BpfException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int errno;

  public BpfException(String message, int errno) {
    super(message);
    this.errno = errno;
  }

  public BpfException(String message, int errno, Throwable cause) {
    super(message, cause);
    this.errno = errno;
  }

  /** Positive errno, or 0 when not applicable. */
  public int errno() {
    return errno;
  }
}
