package dev.veriruntime.ingest;

/** The probe could not be loaded or a required program could not be attached; one-line message. */
public final class ProbeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ProbeException(String message, Throwable cause) {
    super(message, cause);
  }
}
