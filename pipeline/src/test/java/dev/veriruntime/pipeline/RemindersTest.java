package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class RemindersTest {
  @Test
  void eachDelayInTurnThenTheLastOneRepeated() {
    Reminders r = Reminders.HOURLY;
    assertThat(List.of(r.after(0), r.after(1), r.after(2), r.after(3), r.after(500)))
        .containsExactly(
            Duration.ofMinutes(1),
            Duration.ofMinutes(10),
            Duration.ofHours(1),
            Duration.ofHours(1),
            Duration.ofHours(1));
  }

  @Test
  void noDelaysOrAZeroDelayIsRefused() {
    assertThatThrownBy(() -> new Reminders(List.of())).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Reminders(List.of(Duration.ofMinutes(1), Duration.ZERO)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
