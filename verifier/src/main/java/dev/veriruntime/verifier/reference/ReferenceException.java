package dev.veriruntime.verifier.reference;

/**
 * A reference source or key could not be used. {@link #kind()} tells callers (the CLI maps it to an
 * exit code) what went wrong without parsing the message; the message is one line naming the file.
 */
public final class ReferenceException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why a reference source or key was refused. */
  public enum Kind {
    /** The file is missing, is a directory, or cannot be read. */
    UNREADABLE,
    /** Not JSON, not a DSSE envelope or in-toto statement, bad base64, bad digest... */
    MALFORMED,
    /** A signature did not verify, or no trusted key signed the envelope when one was required. */
    SIGNATURE_INVALID,
    /** A key file is missing, malformed, or holds an unsupported key type. */
    KEY_INVALID
  }

  private final Kind kind;

  public ReferenceException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public ReferenceException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
