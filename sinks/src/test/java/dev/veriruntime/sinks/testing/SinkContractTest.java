package dev.veriruntime.sinks.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.Sink;
import dev.veriruntime.sinks.SinkStats;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Scheduler;

/**
 * The contract every {@link Sink} keeps (after micrometer's {@code MeterRegistryCompatibilityKit}):
 * order kept, memory bounded by the capacity, a stalled downstream makes the sink drop and count
 * instead of blocking or growing, close flushes, failures are counted and never hang. Each sink's
 * test extends this class and supplies the sink and a view of its real downstream.
 *
 * <p>The downstream is stalled by holding the sink's drain scheduler ({@link GatedExecutor}), so
 * the tests need no sleeps and are exact.
 */
public abstract class SinkContractTest {
  private static final Instant T0 = Instant.parse("2026-11-23T07:00:00Z");

  private GatedExecutor gate;
  private final List<Sink> created = new ArrayList<>();

  /**
   * A new sink under test.
   *
   * @param capacity the bound on pending events
   * @param scheduler the drain scheduler the sink must use
   */
  protected abstract Sink newSink(int capacity, Scheduler scheduler) throws Exception;

  /**
   * Ids of the events the real downstream received, in arrival order, or empty when the downstream
   * does not keep ids (then order checks are skipped and {@link #deliveredCount()} is used).
   */
  protected abstract Optional<List<String>> deliveredIds() throws Exception;

  /** How many events the real downstream received. Default: the size of {@link #deliveredIds()}. */
  protected long deliveredCount() throws Exception {
    return deliveredIds().orElseThrow().size();
  }

  /**
   * Makes every later delivery fail (server down, socket closed...). Sinks whose downstream cannot
   * be made to fail honestly leave the default, which skips the failure tests with a reason.
   */
  protected void breakDownstream() throws Exception {
    Assumptions.abort(getClass().getSimpleName() + ": no way to make this downstream fail");
  }

  /** Upper bound for waits; delivery over loopback is far faster. */
  protected Duration timeout() {
    return Duration.ofSeconds(10);
  }

  protected static SecurityEvent event(int i) {
    return SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, T0.plusMillis(i))
        .host("contract-host")
        .pid(1000 + i)
        .exe("/usr/bin/contract-" + i, 2049, 10_000 + i, "ab".repeat(32))
        .reason("contract event " + i)
        .coverage("DISK_HASH", "VERIFIED", "")
        .coverage("SIGNATURE", "NOT_VERIFIED", "no signed reference")
        .finding("NO_REFERENCE", "DISK_HASH", "no reference for this digest", java.util.Map.of())
        .build();
  }

  @BeforeEach
  void openGate() {
    gate = new GatedExecutor(true);
  }

  /**
   * Closes every sink this test created (idempotent). Subclasses whose downstream must outlive the
   * sinks (a server waiting for keep-alive connections) call it first in their own {@code
   * AfterEach}, which JUnit runs before this one.
   */
  @AfterEach
  protected final void closeSinks() {
    created.forEach(Sink::close);
    gate.close();
  }

  private Sink sink(int capacity) throws Exception {
    Sink s = newSink(capacity, gate.scheduler());
    created.add(s);
    return s;
  }

  private void flush(Sink s) {
    s.flush().block(timeout());
  }

  private static void assertBalanced(SinkStats st) {
    assertThat(st.accepted()).isEqualTo(st.delivered() + st.failed() + st.pending());
    assertThat(st.pending()).isBetween(0, st.capacity());
  }

  @Test
  void deliversEverythingInEmitOrder() throws Exception {
    Sink s = sink(64);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      SecurityEvent e = event(i);
      ids.add(e.id());
      assertThat(s.emit(e)).isTrue();
    }
    flush(s);

    SinkStats st = s.stats();
    assertThat(st.accepted()).isEqualTo(50);
    assertThat(st.delivered()).isEqualTo(50);
    assertThat(st.dropped()).isZero();
    assertThat(st.failed()).isZero();
    assertThat(st.pending()).isZero();
    assertThat(deliveredCount()).isEqualTo(50);
    Optional<List<String>> got = deliveredIds();
    got.ifPresent(list -> assertThat(list).containsExactlyElementsOf(ids));
  }

  @Test
  void stalledDownstreamDropsAndCountsWithinCapacity() throws Exception {
    int capacity = 8;
    gate.closeGate();
    Sink s = sink(capacity);
    List<String> ids = new ArrayList<>();
    int refused = 0;
    for (int i = 0; i < capacity * 5; i++) {
      SecurityEvent e = event(i);
      if (s.emit(e)) {
        ids.add(e.id());
      } else {
        refused++;
      }
      // Bounded memory at every step, not only at the end.
      assertThat(s.stats().pending()).isLessThanOrEqualTo(capacity);
    }
    SinkStats stalled = s.stats();
    assertThat(stalled.accepted()).isEqualTo(capacity);
    assertThat(stalled.dropped()).isEqualTo(capacity * 4L).isEqualTo(refused);
    assertThat(stalled.pending()).isEqualTo(capacity);
    assertThat(stalled.delivered()).isZero();
    assertThat(deliveredCount()).isZero();

    gate.openGate();
    flush(s);
    assertThat(s.stats().delivered()).isEqualTo(capacity);
    assertThat(deliveredCount()).isEqualTo(capacity);
    deliveredIds().ifPresent(list -> assertThat(list).containsExactlyElementsOf(ids));
    assertBalanced(s.stats());

    // Once drained, the sink accepts again.
    assertThat(s.emit(event(999))).isTrue();
    flush(s);
    assertThat(s.stats().delivered()).isEqualTo(capacity + 1L);
  }

  @Test
  void closeFlushesPendingEventsAndThenRefuses() throws Exception {
    gate.closeGate();
    Sink s = sink(32);
    for (int i = 0; i < 20; i++) {
      assertThat(s.emit(event(i))).isTrue();
    }
    gate.openGate();
    s.close();

    assertThat(deliveredCount()).isEqualTo(20);
    assertThat(s.stats().delivered()).isEqualTo(20);
    long droppedBefore = s.stats().dropped();
    assertThat(s.emit(event(21))).isFalse();
    assertThat(s.stats().dropped()).isEqualTo(droppedBefore + 1);
    s.close(); // idempotent
  }

  @Test
  void failuresAreCountedAndFlushStillCompletes() throws Exception {
    Sink s = sink(32);
    assertThat(s.emit(event(0))).isTrue();
    flush(s);
    breakDownstream();
    for (int i = 1; i <= 5; i++) {
      s.emit(event(i));
    }
    flush(s);

    SinkStats st = s.stats();
    assertThat(st.delivered()).isEqualTo(1);
    assertThat(st.failed()).isEqualTo(5);
    assertThat(st.lastFailure()).isNotBlank();
    assertBalanced(st);
  }

  @Test
  void concurrentEmittersKeepTheirOwnOrderAndEveryEventIsAccounted() throws Exception {
    Sink s = sink(10_000);
    int threads = 4;
    int perThread = 200;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    List<List<String>> perThreadIds = new ArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        List<String> mine = new ArrayList<>();
        perThreadIds.add(mine);
        int base = t * perThread;
        pool.execute(
            () -> {
              try {
                start.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
              }
              for (int i = 0; i < perThread; i++) {
                SecurityEvent e = event(base + i);
                synchronized (mine) {
                  mine.add(e.id());
                }
                s.emit(e);
              }
            });
      }
      start.countDown();
      pool.shutdown();
      assertThat(pool.awaitTermination(timeout().toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    } finally {
      pool.shutdownNow();
    }
    flush(s);

    SinkStats st = s.stats();
    assertThat(st.accepted() + st.dropped()).isEqualTo((long) threads * perThread);
    assertThat(st.delivered()).isEqualTo(threads * perThread);
    Optional<List<String>> got = deliveredIds();
    if (got.isPresent()) {
      for (List<String> mine : perThreadIds) {
        synchronized (mine) {
          assertThat(got.get().stream().filter(mine::contains).toList())
              .containsExactlyElementsOf(mine);
        }
      }
    }
  }
}
