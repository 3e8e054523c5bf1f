package dev.veriruntime.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.ingest.event.EventKind;
import dev.veriruntime.ingest.event.ExecEvent;
import dev.veriruntime.ingest.event.ExecMappingEvent;
import dev.veriruntime.ingest.event.ExitEvent;
import dev.veriruntime.ingest.event.LostEvent;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.ingest.kernel.BpfRingBuffer.RecordHandler;
import dev.veriruntime.ingest.record.WireFormat;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/** How kernel counters and undecodable records become LostEvents (no kernel needed). */
class EventSourceTest {

  @Test
  void countersIndexedByKindBecomeLostByKind() {
    long[] lost = new long[8];
    lost[EventKind.EXEC.code()] = 3;
    lost[EventKind.EXEC_MAPPING.code()] = 5;
    LostEvent event = EventSource.lostEvent(new LossWindow(100, 200, lost));
    assertThat(event.lostByKind())
        .containsOnly(Map.entry(EventKind.EXEC, 3L), Map.entry(EventKind.EXEC_MAPPING, 5L));
    assertThat(event.windowStartNanos()).isEqualTo(100);
    assertThat(event.windowEndNanos()).isEqualTo(200);
    assertThat(event.total()).isEqualTo(8);
  }

  @Test
  void lossesUnderAKeyThatIsNoKindCountAsExec() {
    long[] lost = new long[8];
    lost[0] = 3;
    lost[EventKind.EXEC.code()] = 4;
    assertThat(EventSource.lostEvent(new LossWindow(0, 1, lost)).lostByKind())
        .containsOnly(Map.entry(EventKind.EXEC, 7L));
  }

  @Test
  void malformedRecordIsUndecodableUnderTheKindItsHeaderClaims() {
    ByteBuffer record = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    record.putShort(0, (short) 99); // wrong schema version
    record.putShort(2, (short) EventKind.MEMFD_CREATE.code());
    assertThatThrownBy(() -> EventSource.decoder().apply(record))
        .isInstanceOfSatisfying(
            UndecodableRecordException.class,
            e -> assertThat(e.lossKey()).isEqualTo(EventKind.MEMFD_CREATE.code()));
    assertThatThrownBy(() -> EventSource.decoder().apply(ByteBuffer.allocate(2)))
        .isInstanceOfSatisfying(
            UndecodableRecordException.class,
            e -> assertThat(e.lossKey()).isEqualTo(EventKind.EXEC.code()));
  }

  @Test
  void aMalformedRecordInARoundOfRealRecordsIsReportedAsLostAndTheOthersArriveAsOneBatch() {
    byte[] corrupt = fixture("exec-scenario.bin");
    ByteBuffer.wrap(corrupt)
        .order(ByteOrder.nativeOrder())
        .putInt(WireFormat.Header.RECORD_SIZE, 8);
    OneRound ring =
        new OneRound(
            List.of(
                fixture("exec-scenario.bin"),
                fixture("mapping-mmap-libc.bin"),
                corrupt,
                fixture("exit-status-7.bin")));

    StepVerifier.create(
            RingBufferReader.batches(
                ring,
                EventSource.decoder(),
                EventSource::lostEvent,
                Duration.ofMillis(20),
                EventSource.MAX_BATCH,
                Duration.ZERO,
                false))
        .assertNext(
            batch ->
                assertThat(batch)
                    .map(RuntimeEvent::getClass)
                    .containsExactly(ExecEvent.class, ExecMappingEvent.class, ExitEvent.class))
        .assertNext(
            batch ->
                assertThat(batch)
                    .singleElement()
                    .isInstanceOfSatisfying(
                        LostEvent.class,
                        lost ->
                            assertThat(lost.lostByKind())
                                .containsOnly(Map.entry(EventKind.EXEC, 1L))))
        .thenCancel()
        .verify(Duration.ofSeconds(5));
  }

  /**
   * Hands its records in one poll through one reused buffer, as {@code BpfRingBuffer} do, so a
   * decoder that kept the buffer would see the next record's bytes.
   */
  private static final class OneRound implements RecordSource {
    private final ArrayDeque<byte[]> records;
    private volatile boolean released;
    private volatile Thread waiter;

    OneRound(List<byte[]> records) {
      this.records = new ArrayDeque<>(records);
    }

    @Override
    public Stream open(RecordHandler handler) {
      byte[] scratch = new byte[1024];
      ByteBuffer view = ByteBuffer.wrap(scratch).order(ByteOrder.LITTLE_ENDIAN);
      return new Stream() {
        @Override
        public int poll(int timeoutMillis) {
          int handled = consume();
          waiter = Thread.currentThread(); // before the check: a release after it unparks us
          if (handled == 0 && !released) {
            // Nothing left: wait like epoll would, rather than let the reader spin.
            java.util.concurrent.locks.LockSupport.parkNanos(timeoutMillis * 1_000_000L);
          }
          return handled;
        }

        @Override
        public void release() {
          released = true;
          java.util.concurrent.locks.LockSupport.unpark(waiter);
        }

        @Override
        public synchronized int consume() {
          int handled = 0;
          while (!records.isEmpty()) {
            byte[] record = records.poll();
            System.arraycopy(record, 0, scratch, 0, record.length);
            view.clear().limit(record.length);
            handled++;
            if (!handler.onRecord(view)) {
              break;
            }
          }
          return handled;
        }

        @Override
        public void close() {}
      };
    }

    @Override
    public long[] claimLost() {
      return new long[0];
    }

    @Override
    public void register(RingBufferReader<?> reader) {}

    @Override
    public void unregister(RingBufferReader<?> reader) {}

    @Override
    public String name() {
      return "one-round";
    }
  }

  private static byte[] fixture(String name) {
    try (InputStream in =
        EventSourceTest.class.getResourceAsStream(
            "/dev/veriruntime/ingest/record/fixtures/" + name)) {
      return Objects.requireNonNull(in, name).readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
