package dev.veriruntime.ingest.record;

/**
 * A ring-buffer record that does not follow bpf/veriruntime.h: wrong schema version, unknown kind,
 * a size that does not match its kind, a length field out of range, or too few bytes. The only
 * exception {@link RecordDecoder} throws for bad input.
 */
public final class MalformedRecordException extends Exception {
  private static final long serialVersionUID = 1L;

  public MalformedRecordException(String message) {
    super(message);
  }
}
