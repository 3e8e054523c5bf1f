package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.api.ApiException;
import dev.veriruntime.api.ApiException.Code;
import org.junit.jupiter.api.Test;

class ExitCodesTest {

  @Test
  void everyApiErrorHasItsOwnDocumentedExitCode() {
    assertThat(ExitCodes.of(Code.NOT_FOUND)).isEqualTo(ExitCodes.NOT_FOUND);
    assertThat(ExitCodes.of(Code.BAD_REQUEST)).isEqualTo(ExitCodes.USAGE);
    assertThat(ExitCodes.of(Code.FORBIDDEN)).isEqualTo(ExitCodes.API_FORBIDDEN);
    assertThat(ExitCodes.of(Code.UNAVAILABLE)).isEqualTo(ExitCodes.DAEMON_UNAVAILABLE);
    assertThat(ExitCodes.of(Code.INTERNAL)).isEqualTo(ExitCodes.INTERNAL);
  }

  @Test
  void apiFailureKeepsItsMessageAndCause() {
    ApiException e = new ApiException(Code.UNAVAILABLE, "no daemon answers");
    CliException failure = ExitCodes.failure(e);
    assertThat(failure.exitCode()).isEqualTo(ExitCodes.DAEMON_UNAVAILABLE);
    assertThat(failure.getMessage()).isEqualTo("no daemon answers");
    assertThat(failure.getCause()).isSameAs(e);
  }
}
