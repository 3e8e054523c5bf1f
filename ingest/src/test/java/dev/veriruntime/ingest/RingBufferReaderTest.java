package dev.veriruntime.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.kernel.BpfRingBuffer.RecordHandler;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/** Flow control and loss accounting of the reader, over a fake ring (no kernel needed). */
class RingBufferReaderTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  /** A ring whose records are ints; poll blocks on an empty queue like ring_buffer__poll does. */
  static final class FakeRing implements RecordSource {
    final LinkedBlockingQueue<Integer> records = new LinkedBlockingQueue<>();

    /** Records submitted without a wake-up: poll does not return for them, consume takes them. */
    final LinkedBlockingQueue<Integer> quiet = new LinkedBlockingQueue<>();

    final AtomicLong kernelLost = new AtomicLong();
    final AtomicLong polls = new AtomicLong();
    final AtomicLong consumes = new AtomicLong();

    /** Polls that a release ended before their timeout. */
    final AtomicLong releasedPolls = new AtomicLong();

    /** For each record handed over: how many epoll waits (polls) the reader had made by then. */
    final java.util.Map<Integer, Long> pollsBefore = new java.util.concurrent.ConcurrentHashMap<>();

    final AtomicReference<RingBufferReader<?>> active = new AtomicReference<>();
    long claimed;

    /** Adds the records as one producer step: a round never sees only some of them. */
    synchronized FakeRing produce(int from, int count) {
      for (int i = from; i < from + count; i++) {
        records.add(i);
      }
      return this;
    }

    @Override
    public Stream open(RecordHandler handler) {
      AtomicBoolean released = new AtomicBoolean();
      return new Stream() {
        @Override
        public int poll(int timeoutMillis) {
          polls.incrementAndGet();
          long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
          try {
            // In slices, so that a release ends the wait as it ends epoll's
            while (!released.get()) {
              Integer first = records.poll(Math.min(timeoutMillis, 5), TimeUnit.MILLISECONDS);
              if (first != null) {
                return handleFrom(first);
              }
              if (System.nanoTime() - deadline >= 0) {
                return 0;
              }
            }
            releasedPolls.incrementAndGet();
            return consume();
          } catch (InterruptedException e) {
            return 0;
          }
        }

        @Override
        public void release() {
          released.set(true);
        }

        @Override
        public int consume() {
          consumes.incrementAndGet();
          Integer first = quiet.poll();
          if (first != null) {
            return handleFrom(first);
          }
          first = records.poll();
          return first == null ? 0 : handleFrom(first);
        }

        private int handleFrom(Integer first) {
          synchronized (FakeRing.this) {
            return handleLocked(first);
          }
        }

        private int handleLocked(Integer first) {
          int handled = 0;
          Integer next = first;
          while (next != null) {
            handled++;
            pollsBefore.put(next, polls.get());
            ByteBuffer record =
                ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, next);
            if (!handler.onRecord(record)) {
              break;
            }
            next = records.poll();
          }
          return handled;
        }

        @Override
        public void close() {}
      };
    }

    @Override
    public synchronized long[] claimLost() {
      long total = kernelLost.get();
      long delta = total - claimed;
      claimed = total;
      return new long[] {0, delta};
    }

    @Override
    public void register(RingBufferReader<?> reader) {
      if (!active.compareAndSet(null, reader)) {
        throw new IllegalStateException("already has an active reader");
      }
    }

    @Override
    public void unregister(RingBufferReader<?> reader) {
      active.compareAndSet(reader, null);
    }

    @Override
    public String name() {
      return "fake";
    }
  }

  static Flux<String> read(FakeRing ring, Duration lostCheck) {
    return RingBufferReader.flux(
        ring, RingBufferReaderTest::decode, RingBufferReaderTest::lost, lostCheck);
  }

  static Flux<List<String>> readBatches(
      FakeRing ring, Duration lostCheck, int maxBatch, Duration coalesce) {
    return RingBufferReader.batches(
        ring,
        RingBufferReaderTest::decode,
        RingBufferReaderTest::lost,
        lostCheck,
        maxBatch,
        coalesce,
        false);
  }

  private static String decode(ByteBuffer record) {
    int value = record.getInt(0);
    if (value < 0) {
      throw new UndecodableRecordException(0, "bad record " + value, null);
    }
    return "r" + value;
  }

  private static String lost(LossWindow window) {
    return "lost " + window.lost(0) + "/" + window.lost(1);
  }

  @Test
  void theRecordsOfOneRoundAreOneBatch() {
    FakeRing ring = new FakeRing().produce(0, 5);
    StepVerifier.create(readBatches(ring, Duration.ofHours(1), 256, Duration.ZERO))
        .expectNext(List.of("r0", "r1", "r2", "r3", "r4"))
        .then(() -> ring.produce(5, 2))
        .expectNext(List.of("r5", "r6"))
        .thenCancel()
        .verify(TIMEOUT);
  }

  @Test
  void aRoundLongerThanTheBatchIsSplitAndTakenOnlyAgainstDemand() {
    FakeRing ring = new FakeRing().produce(0, 7);
    StepVerifier.create(readBatches(ring, Duration.ofHours(1), 3, Duration.ZERO), 0)
        .thenRequest(1)
        .expectNext(List.of("r0", "r1", "r2"))
        // The ring stops right after the record that filled the only requested batch.
        .then(() -> assertThat(ring.records).hasSize(4))
        .thenRequest(2)
        .expectNext(List.of("r3", "r4", "r5"), List.of("r6"))
        .thenCancel()
        .verify(TIMEOUT);
  }

  @Test
  void aMalformedRecordInsideABatchIsCountedAndTheRestOfTheBatchGoesOn() {
    FakeRing ring = new FakeRing();
    ring.records.addAll(List.of(1, 2, -1, 3, 4));
    StepVerifier.create(readBatches(ring, Duration.ofMillis(20), 256, Duration.ZERO))
        .expectNext(List.of("r1", "r2", "r3", "r4"))
        .expectNext(List.of("lost 1/0"))
        .thenCancel()
        .verify(TIMEOUT);
  }

  @Test
  void aKernelLossIsABatchOfItsOwnBetweenRecordBatches() {
    FakeRing ring = new FakeRing().produce(0, 2);
    StepVerifier.create(readBatches(ring, Duration.ofMillis(20), 256, Duration.ZERO))
        .expectNext(List.of("r0", "r1"))
        .then(() -> ring.kernelLost.set(4))
        .expectNext(List.of("lost 0/4"))
        .then(() -> ring.produce(2, 1))
        .expectNext(List.of("r2"))
        .thenCancel()
        .verify(TIMEOUT);
  }

  @Test
  void inABusyRingTheNextRoundIsTakenWithoutWaitingOnEpoll() {
    FakeRing ring = new FakeRing().produce(0, 3);
    ring.quiet.add(3); // wakes nobody: a round without epoll takes it, else the poll's timeout
    // A window of 1 s: the first round (well within half of it after start) makes the ring busy.
    StepVerifier.create(readBatches(ring, Duration.ofHours(1), 256, Duration.ofSeconds(1)))
        .expectNext(List.of("r0", "r1", "r2"))
        .expectNext(List.of("r3"))
        .thenCancel()
        .verify(TIMEOUT);
    assertThat(ring.pollsBefore).containsEntry(0, 1L).containsEntry(3, 1L);
  }

  @Test
  void aRingIsBusyWhileRoundsFindRecordsFasterThanOnePerHalfWindow() {
    long window = 1_000;
    assertThat(RingBufferReader.busyAfter(false, 2, 499, window)).isTrue();
    assertThat(RingBufferReader.busyAfter(false, 2, 500, window)).isFalse(); // calm: epoll
    assertThat(RingBufferReader.busyAfter(true, 1, 5_000, window)).isTrue(); // stays busy
    assertThat(RingBufferReader.busyAfter(true, 0, 100, window)).isFalse(); // empty round ends it
    assertThat(RingBufferReader.busyAfter(false, 9, 1, 0)).isFalse(); // coalescing off
  }

  @Test
  void withoutCoalescingTheReaderWaitsOnEpollAfterEveryRound() {
    FakeRing ring = new FakeRing().produce(0, 3);
    ring.quiet.add(3);
    StepVerifier.create(readBatches(ring, Duration.ofHours(1), 256, Duration.ZERO))
        .expectNext(List.of("r0", "r1", "r2"))
        .expectNext(List.of("r3"))
        .thenCancel()
        .verify(TIMEOUT);
    assertThat(ring.pollsBefore).containsEntry(0, 1L).containsEntry(3, 2L);
  }

  @Test
  void takesRecordsFromTheRingOnlyAgainstDemand() {
    FakeRing ring = new FakeRing().produce(0, 100);
    StepVerifier.create(read(ring, Duration.ofHours(1)), 0)
        .thenRequest(3)
        .expectNext("r0", "r1", "r2")
        .then(() -> assertThat(ring.records).hasSize(97))
        .thenRequest(2)
        .expectNext("r3", "r4")
        .then(() -> assertThat(ring.records).hasSize(95))
        .thenCancel()
        .verify(TIMEOUT);
  }

  @Test
  void aRecordThatWokeNobodyIsTakenWhenThePollTimesOut() {
    FakeRing ring = new FakeRing();
    ring.quiet.add(7);
    StepVerifier.create(read(ring, Duration.ofHours(1)))
        .expectNext("r7")
        .thenCancel()
        .verify(TIMEOUT);
  }

  @Test
  void reportsKernelLossesPeriodicallyAsOneEventPerDelta() {
    FakeRing ring = new FakeRing().produce(0, 2);
    ring.kernelLost.set(5);
    StepVerifier.create(read(ring, Duration.ofMillis(20)))
        .expectNext("r0", "r1")
        .expectNext("lost 0/5")
        .then(() -> ring.kernelLost.addAndGet(7))
        .expectNext("lost 0/7")
        .thenCancel()
        .verify(TIMEOUT);
  }

  @Test
  void countsUndecodableRecordsAsLost() {
    FakeRing ring = new FakeRing();
    ring.records.add(1);
    ring.records.add(-1);
    ring.records.add(2);
    StepVerifier.create(read(ring, Duration.ofMillis(20)))
        .expectNext("r1", "r2", "lost 1/0")
        .thenCancel()
        .verify(TIMEOUT);
  }

  @Test
  void stopEmitsTheFinalLossReportEvenWithoutDemandAndCompletes() {
    FakeRing ring = new FakeRing().produce(0, 1);
    StepVerifier.create(read(ring, Duration.ofHours(1)), 1)
        .expectNext("r0")
        .then(
            () -> {
              ring.kernelLost.set(3);
              ring.active.get().stopAndJoin();
            })
        // Buffered, not dropped: it arrives as soon as there is demand, before completion.
        .thenRequest(1)
        .expectNext("lost 0/3")
        .verifyComplete();
  }

  @Test
  void stopEndsThePollInProgressRatherThanWaitingOutItsTimeout() {
    FakeRing ring = new FakeRing();
    StepVerifier.create(read(ring, Duration.ofHours(1)))
        .then(
            () -> {
              while (ring.polls.get() == 0) {
                Thread.onSpinWait();
              }
              ring.active.get().stopAndJoin();
            })
        .verifyComplete();
    assertThat(ring.releasedPolls).hasValue(1);
  }

  @Test
  void aSecondConcurrentReaderIsRefused() {
    FakeRing ring = new FakeRing();
    Flux<String> events = read(ring, Duration.ofHours(1));
    StepVerifier.create(events)
        .then(
            () ->
                StepVerifier.create(events)
                    .expectError(IllegalStateException.class)
                    .verify(TIMEOUT))
        .thenCancel()
        .verify(TIMEOUT);
  }
}
