package dev.veriruntime.api;

import java.util.Objects;

/**
 * A Core API call that did not produce a result. The {@link Code} travels unchanged from the
 * in-process implementation, over the socket (as {@code {"error": CODE, "message": "..."}} with
 * {@link Code#httpStatus()}) and back, so a CLI command fails the same way whichever form answered.
 */
public final class ApiException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why a call failed; each code has one HTTP status (the CLI maps each to one exit code). */
  public enum Code {
    /** The pid, file or evidence reference does not exist. */
    NOT_FOUND(404),
    /** The request is malformed: bad pid, relative path, unknown route, oversized request. */
    BAD_REQUEST(400),
    /** The caller's peer credentials are not allowed by the daemon's policy. */
    FORBIDDEN(403),
    /** No daemon answers, it is overloaded, or the operation is not available in this build. */
    UNAVAILABLE(503),
    /** A bug or an unexpected failure behind the API. */
    INTERNAL(500);

    private final int httpStatus;

    Code(int httpStatus) {
      this.httpStatus = httpStatus;
    }

    public int httpStatus() {
      return httpStatus;
    }

    /** The code for an HTTP status that carried no readable error body. */
    static Code forHttpStatus(int status) {
      for (Code c : values()) {
        if (c.httpStatus == status) {
          return c;
        }
      }
      return status >= 400 && status < 500 ? BAD_REQUEST : INTERNAL;
    }
  }

  private final Code code;

  public ApiException(Code code, String message) {
    super(message);
    this.code = Objects.requireNonNull(code, "code");
  }

  public ApiException(Code code, String message, Throwable cause) {
    super(message, cause);
    this.code = Objects.requireNonNull(code, "code");
  }

  public Code code() {
    return code;
  }
}
