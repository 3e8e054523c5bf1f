package dev.veriruntime.ingest.event;

import java.util.Optional;

/**
 * The kinds of kernel record, with the numeric code of {@code enum vr_kind} in bpf/veriruntime.h.
 */
public enum EventKind {
  EXEC(1),
  EXIT(2),
  EXEC_MAPPING(3),
  ANONYMOUS_EXEC(4),
  INJECTION(5),
  MEMFD_CREATE(6),
  FILE_WRITE(7);

  private static final EventKind[] BY_CODE = new EventKind[8];

  static {
    for (EventKind kind : values()) {
      BY_CODE[kind.code] = kind;
    }
  }

  private final int code;

  EventKind(int code) {
    this.code = code;
  }

  /** The wire code ({@code vr_header.kind}). */
  public int code() {
    return code;
  }

  /** The kind for a wire code, or empty when the code is not one of ours. */
  public static Optional<EventKind> fromCode(int code) {
    return code > 0 && code < BY_CODE.length
        ? Optional.ofNullable(BY_CODE[code])
        : Optional.empty();
  }
}
