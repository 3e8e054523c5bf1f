package dev.veriruntime.api;

import dev.veriruntime.api.ApiException.Code;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The one mapping between {@link ApiException.Code} and gRPC status codes, used by the server and
 * the client so a code survives the round trip:
 *
 * <pre>
 * NOT_FOUND    ↔ NOT_FOUND
 * BAD_REQUEST  ↔ INVALID_ARGUMENT
 * FORBIDDEN    ↔ PERMISSION_DENIED (and UNAUTHENTICATED, from a TLS client)
 * UNAVAILABLE  ↔ UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, UNIMPLEMENTED
 * INTERNAL     ↔ INTERNAL and every other status
 * </pre>
 */
final class GrpcStatuses {
  private GrpcStatuses() {}

  static Status of(ApiException e) {
    Status status =
        switch (e.code()) {
          case NOT_FOUND -> Status.NOT_FOUND;
          case BAD_REQUEST -> Status.INVALID_ARGUMENT;
          case FORBIDDEN -> Status.PERMISSION_DENIED;
          case UNAVAILABLE -> Status.UNAVAILABLE;
          case INTERNAL -> Status.INTERNAL;
        };
    return status.withDescription(e.getMessage());
  }

  static ApiException toApiException(StatusRuntimeException e) {
    Status s = e.getStatus();
    Code code =
        switch (s.getCode()) {
          case NOT_FOUND -> Code.NOT_FOUND;
          case INVALID_ARGUMENT -> Code.BAD_REQUEST;
          case PERMISSION_DENIED, UNAUTHENTICATED -> Code.FORBIDDEN;
          case UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, UNIMPLEMENTED, CANCELLED ->
              Code.UNAVAILABLE;
          default -> Code.INTERNAL;
        };
    String message = s.getDescription() != null ? s.getDescription() : s.getCode().toString();
    return new ApiException(code, message, e);
  }
}
