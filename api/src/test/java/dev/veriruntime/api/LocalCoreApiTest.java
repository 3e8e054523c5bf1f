package dev.veriruntime.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.api.ApiException.Code;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class LocalCoreApiTest {

  private static LocalCoreApi failingWith(Exception e) {
    return LocalCoreApi.builder()
        .health(
            () -> {
              throw e;
            })
        .build();
  }

  @Test
  void backingExceptionsMapToCodes() {
    Map<Exception, Code> cases =
        Map.of(
            new ApiException(Code.FORBIDDEN, "no"), Code.FORBIDDEN,
            new FileNotFoundException("x"), Code.NOT_FOUND,
            new java.util.NoSuchElementException(), Code.NOT_FOUND,
            new IllegalArgumentException("bad"), Code.BAD_REQUEST,
            new RejectedExecutionException(), Code.UNAVAILABLE,
            new IOException("disk on fire"), Code.INTERNAL,
            new IllegalStateException("bug"), Code.INTERNAL);
    cases.forEach(
        (thrown, code) ->
            assertThatThrownBy(() -> failingWith(thrown).health())
                .isInstanceOfSatisfying(
                    ApiException.class,
                    e -> assertThat(e.code()).as(thrown.toString()).isEqualTo(code)));
    assertThatThrownBy(() -> failingWith(new IOException("disk on fire")).health())
        .hasMessageContaining("disk on fire");
  }

  /**
   * Stands for the process verifier's ProcessGoneException: an IOException that means NOT_FOUND.
   */
  static final class GoneException extends IOException {
    private static final long serialVersionUID = 1L;

    GoneException(String message) {
      super(message);
    }
  }

  @Test
  void registeredExceptionTypesTakePrecedenceOverTheDefaults() {
    LocalCoreApi api =
        LocalCoreApi.builder()
            .errorCode(GoneException.class, Code.NOT_FOUND)
            .verifyProcess(
                pid -> {
                  throw new GoneException("exited while being read");
                })
            .health(
                () -> {
                  throw new IOException("other");
                })
            .build();
    assertThatThrownBy(() -> api.verifyProcess(77))
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> {
              assertThat(e.code()).isEqualTo(Code.NOT_FOUND);
              assertThat(e.getMessage()).isEqualTo("process 77: exited while being read");
            });
    assertThatThrownBy(api::health)
        .isInstanceOfSatisfying(
            ApiException.class, e -> assertThat(e.code()).isEqualTo(Code.INTERNAL));
  }

  @Test
  void emptyAndNullResultsAreNotFound() {
    LocalCoreApi api =
        LocalCoreApi.builder().evidence(ref -> Optional.empty()).runtimeState(() -> null).build();
    assertThatThrownBy(() -> api.getEvidence("01J9Z3"))
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> {
              assertThat(e.code()).isEqualTo(Code.NOT_FOUND);
              assertThat(e.getMessage()).isEqualTo("evidence 01J9Z3: not found");
            });
    assertThatThrownBy(api::listRuntimeState)
        .isInstanceOfSatisfying(
            ApiException.class, e -> assertThat(e.code()).isEqualTo(Code.NOT_FOUND));
  }

  @Test
  void argumentsAreValidatedBeforeTheBackingOperationRuns() throws Exception {
    AtomicReference<Object> seen = new AtomicReference<>();
    LocalCoreApi api =
        LocalCoreApi.builder()
            .verifyProcess(
                pid -> {
                  seen.set(pid);
                  return Map.of();
                })
            .verifyBinary(
                t -> {
                  seen.set(t);
                  return Map.of();
                })
            .evidence(
                r -> {
                  seen.set(r);
                  return Map.of();
                })
            .build();
    for (String bad :
        new String[] {
          "", "bin/ls", "8:x", ":1", "1:2:3", "/a\0b", "/" + "a".repeat(LocalCoreApi.MAX_PATH)
        }) {
      assertThatThrownBy(() -> api.verifyBinary(bad))
          .isInstanceOfSatisfying(
              ApiException.class, e -> assertThat(e.code()).isEqualTo(Code.BAD_REQUEST));
    }
    for (String bad : new String[] {"", "../x", "a/b", "-1", "x".repeat(129)}) {
      assertThatThrownBy(() -> api.getEvidence(bad))
          .isInstanceOfSatisfying(
              ApiException.class, e -> assertThat(e.code()).isEqualTo(Code.BAD_REQUEST));
    }
    assertThatThrownBy(() -> api.verifyProcess(0))
        .isInstanceOfSatisfying(
            ApiException.class, e -> assertThat(e.code()).isEqualTo(Code.BAD_REQUEST));
    assertThat(seen.get()).as("no invalid argument reached a backing operation").isNull();

    api.verifyBinary("8388609:1310722");
    assertThat(seen.get()).isEqualTo("8388609:1310722");
    api.getEvidence("01J9Z3K7-x.y:z_1");
    assertThat(seen.get()).isEqualTo("01J9Z3K7-x.y:z_1");
    api.verifyProcess(1);
    assertThat(seen.get()).isEqualTo(1);
  }

  /** A class Jackson sees no property of, like one with record-style accessors only. */
  static final class Opaque {
    private final int value = 1;

    int value() {
      return value;
    }
  }

  @Test
  void aResultWithNoJsonPropertiesFailsInsteadOfPrintingEmpty() {
    LocalCoreApi api = LocalCoreApi.builder().health(Opaque::new).build();
    assertThatThrownBy(api::health)
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> {
              assertThat(e.code()).isEqualTo(Code.INTERNAL);
              assertThat(e.getMessage()).contains("not JSON");
            });
  }

  @Test
  void codesMapToHttpStatuses() {
    assertThat(Code.NOT_FOUND.httpStatus()).isEqualTo(404);
    assertThat(Code.BAD_REQUEST.httpStatus()).isEqualTo(400);
    assertThat(Code.FORBIDDEN.httpStatus()).isEqualTo(403);
    assertThat(Code.UNAVAILABLE.httpStatus()).isEqualTo(503);
    assertThat(Code.INTERNAL.httpStatus()).isEqualTo(500);
    assertThat(Code.forHttpStatus(405)).isEqualTo(Code.BAD_REQUEST);
    assertThat(Code.forHttpStatus(502)).isEqualTo(Code.INTERNAL);
  }
}
