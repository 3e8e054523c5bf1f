package dev.veriruntime.ingest.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.RuntimeEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The probe's events a kernel test kept, in arrival order. Fed from the reader's thread ({@link
 * #accept}), read from the test's; thread safe.
 */
public final class RecordedEvents implements Consumer<RuntimeEvent> {
  private final List<RuntimeEvent> events = new ArrayList<>();

  @Override
  public synchronized void accept(RuntimeEvent event) {
    events.add(event);
  }

  /** The kept events of one type that match {@code which}. */
  public synchronized <T extends RuntimeEvent> List<T> of(
      Class<T> type, Predicate<? super T> which) {
    return events.stream().filter(type::isInstance).map(type::cast).filter(which).toList();
  }

  /**
   * Waits (at most {@code wait}) until {@code count} events of {@code type} match, and asserts that
   * exactly that many did.
   */
  public <T extends RuntimeEvent> List<T> await(
      Class<T> type, Predicate<? super T> which, int count, Duration wait)
      throws InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    while (of(type, which).size() < count && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(of(type, which)).hasSize(count);
    return of(type, which);
  }
}
