package dev.veriruntime.api.intake;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.veriruntime.verifier.testing.InputBudget;
import java.util.Arrays;

/**
 * Jazzer target for the alert intake's parsers ({@link AlertParsers#parse}): any body another tool
 * (or anyone on the socket) posts to {@code /v1/alerts} or sends through gRPC's SubmitAlert is read
 * as an alert or refused with the declared {@link AlertRejected} carrying a reason and a message,
 * never another exception. An accepted alert names a pid or an absolute path, a source and an id of
 * bounded length without control characters. Bounded per input by {@link InputBudget}.
 *
 * <p>The first byte picks the format (even: Falco, odd: EDR), the rest is the body. Seeds in {@code
 * AlertParsersFuzzTestInputs/}: the Falco and EDR fixtures of {@code alerts/}.
 */
class AlertParsersFuzzTest {

  @FuzzTest(maxDuration = "5m")
  void parseAlert(byte[] input) {
    if (input.length == 0) {
      return;
    }
    AlertFormat format = (input[0] & 1) == 0 ? AlertFormat.FALCO : AlertFormat.EDR;
    byte[] body = Arrays.copyOfRange(input, 1, input.length);
    InputBudget.of(input.length).run(() -> check(format, body));
  }

  private static void check(AlertFormat format, byte[] body) {
    try {
      Alert alert = AlertParsers.parse(format, body);
      assertThat(alert.pid() != null || alert.path() != null).isTrue();
      if (alert.pid() != null) {
        assertThat(alert.pid()).isPositive();
      }
      if (alert.path() != null) {
        assertThat(alert.path()).startsWith("/").doesNotContain("\0");
      }
      for (String text : new String[] {alert.source(), alert.id(), alert.rule()}) {
        if (text != null) {
          assertThat(text.length()).isLessThanOrEqualTo(AlertParsers.MAX_TEXT);
          assertThat(text).doesNotContainPattern("\\p{Cntrl}");
        }
      }
    } catch (AlertRejected declared) {
      assertThat(declared.reason()).isNotNull();
      assertThat(declared.getMessage()).isNotBlank();
    }
  }
}
