package dev.veriruntime.ingest;

/**
 * Thrown by a {@link RingBufferReader} decoder for a record it cannot decode; the reader counts the
 * record as lost under {@link #lossKey()} (any other RuntimeException counts under key 0).
 */
public final class UndecodableRecordException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int lossKey;

  public UndecodableRecordException(int lossKey, String message, Throwable cause) {
    super(message, cause);
    this.lossKey = lossKey;
  }

  public int lossKey() {
    return lossKey;
  }
}
