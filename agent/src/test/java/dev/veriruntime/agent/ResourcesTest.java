package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

class ResourcesTest {
  private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
  private final Resources resources =
      new Resources(new PrintStream(printed, true, StandardCharsets.UTF_8));
  private final List<String> closed = new ArrayList<>();

  @Test
  void closesInReverseOrderOfRegistration() {
    resources.onClose("first", () -> closed.add("first"));
    Scheduler scheduler = resources.register("scheduler", Schedulers.newSingle("test", true));
    resources.register("last", (AutoCloseable) () -> closed.add("last"));

    assertThat(resources.openNames()).containsExactly("last", "scheduler", "first");
    assertThat(resources.closeAll(null)).isNull();

    assertThat(closed).containsExactly("last", "first");
    assertThat(scheduler.isDisposed()).isTrue();
    assertThat(resources.openNames()).isEmpty();
    assertThat(printed.size()).isZero();
  }

  @Test
  void aFailureIsPrintedOnceSuppressedIntoTheStartUpErrorAndTheRestStillClose() {
    IOException broken = new IOException("broken pipe");
    resources.onClose("a", () -> closed.add("a"));
    resources.onClose(
        "b",
        () -> {
          throw broken;
        });
    resources.onClose("c", () -> closed.add("c"));
    IllegalStateException startUp = new IllegalStateException("step failed");

    assertThat(resources.closeAll(startUp)).isNull();

    assertThat(closed).containsExactly("c", "a");
    assertThat(startUp.getSuppressed()).containsExactly(broken);
    assertThat(printed.toString(StandardCharsets.UTF_8))
        .isEqualTo("veriruntime: closing b failed: java.io.IOException: broken pipe\n");
  }

  @Test
  void withoutAStartUpErrorTheFirstFailureCarriesTheLaterOnes() {
    RuntimeException older = new RuntimeException("older");
    RuntimeException newer = new RuntimeException("newer");
    resources.onClose(
        "older",
        () -> {
          throw older;
        });
    resources.onClose(
        "newer",
        () -> {
          throw newer;
        });

    assertThat(resources.closeAll(null)).isSameAs(newer);

    assertThat(newer.getSuppressed()).containsExactly(older);
    assertThat(resources.openNames()).isEmpty();
  }
}
