package dev.veriruntime.ingest.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The consumer loop over a synthetic ring laid out as the kernel maps it: a consumer page, a
 * producer page and the data area, mapped once as the consumer maps it (a record wraps around).
 */
class BpfRingBufferTest {
  private static final int SIZE = 256;

  private final ByteBuffer consumer = page();
  private final ByteBuffer producer = page();
  private final ByteBuffer data = ByteBuffer.allocateDirect(SIZE).order(ByteOrder.nativeOrder());
  private final List<byte[]> seen = new ArrayList<>();
  private final FakeWakeup wakeup = new FakeWakeup();
  private long produced;

  private static ByteBuffer page() {
    return ByteBuffer.allocateDirect(4096).order(ByteOrder.nativeOrder());
  }

  /** Writes one record at the producer position and advances it; returns the header's offset. */
  private int produce(int flags, byte... sample) {
    int offset = (int) (produced % SIZE);
    data.putInt(offset, sample.length | flags);
    data.putInt(offset + 4, 0);
    for (int i = 0; i < sample.length; i++) {
      data.put((offset + BpfRingBuffer.HEADER_SIZE + i) % SIZE, sample[i]);
    }
    produced += (sample.length + 8 + 7) & ~7;
    producer.putLong(0, produced);
    return offset;
  }

  private BpfRingBuffer ring(BpfRingBuffer.RecordHandler handler) {
    return new BpfRingBuffer(consumer, producer, data, handler, wakeup);
  }

  private BpfRingBuffer recording() {
    return ring(
        record -> {
          byte[] copy = new byte[record.remaining()];
          record.get(copy);
          seen.add(copy);
          return true;
        });
  }

  @Test
  void handsEveryCommittedRecordInOrderAndAdvancesTheConsumerPosition() {
    produce(0, (byte) 1, (byte) 2, (byte) 3);
    produce(0, new byte[8]);
    produce(0, (byte) 9);
    try (BpfRingBuffer ring = recording()) {
      assertThat(ring.consume()).isEqualTo(3);
    }
    assertThat(seen).containsExactly(new byte[] {1, 2, 3}, new byte[8], new byte[] {9});
    // 8 + 3 -> 16, 8 + 8 -> 16, 8 + 1 -> 16: each record takes round_up(len + 8, 8) bytes.
    assertThat(consumer.getLong(0)).isEqualTo(48).isEqualTo(produced);
  }

  @Test
  void theRecordIsLittleEndianAndLimitedToTheSample() {
    produce(0, (byte) 0x01, (byte) 0x02, (byte) 0x03, (byte) 0x04, (byte) 0x7f);
    List<Integer> firsts = new ArrayList<>();
    List<Integer> lengths = new ArrayList<>();
    try (BpfRingBuffer ring =
        ring(
            record -> {
              firsts.add(record.getInt(0));
              lengths.add(record.remaining());
              return true;
            })) {
      ring.consume();
    }
    assertThat(firsts).containsExactly(0x04030201);
    assertThat(lengths).containsExactly(5);
  }

  @Test
  void aBusyRecordStopsTheRoundUntilItIsCommitted() {
    produce(0, (byte) 1);
    int busy = produce(BpfRingBuffer.BUSY_BIT, (byte) 2);
    produce(0, (byte) 3);
    try (BpfRingBuffer ring = recording()) {
      assertThat(ring.consume()).isEqualTo(1);
      assertThat(consumer.getLong(0)).isEqualTo(16);
      assertThat(ring.consume()).isZero();

      data.putInt(busy, 1); // committed
      assertThat(ring.consume()).isEqualTo(2);
    }
    assertThat(seen).containsExactly(new byte[] {1}, new byte[] {2}, new byte[] {3});
    assertThat(consumer.getLong(0)).isEqualTo(produced);
  }

  @Test
  void aDiscardedRecordIsSkippedButConsumed() {
    produce(0, (byte) 1);
    produce(BpfRingBuffer.DISCARD_BIT, new byte[13]);
    produce(0, (byte) 3);
    try (BpfRingBuffer ring = recording()) {
      assertThat(ring.consume()).isEqualTo(2);
    }
    assertThat(seen).containsExactly(new byte[] {1}, new byte[] {3});
    // 16 + round_up(13 + 8, 8) = 24 + 16
    assertThat(consumer.getLong(0)).isEqualTo(56).isEqualTo(produced);
  }

  @Test
  void aHandlerThatReturnsFalseStopsAfterThatRecordWhichCountsAsConsumed() {
    produce(0, (byte) 1);
    produce(0, (byte) 2);
    produce(0, (byte) 3);
    List<Byte> firsts = new ArrayList<>();
    try (BpfRingBuffer ring =
        ring(
            record -> {
              firsts.add(record.get(0));
              return record.get(0) != 2;
            })) {
      assertThat(ring.consume()).isEqualTo(2);
      assertThat(consumer.getLong(0)).isEqualTo(32);
      assertThat(ring.consume()).isEqualTo(1);
    }
    assertThat(firsts).containsExactly((byte) 1, (byte) 2, (byte) 3);
  }

  @Test
  void aFailingHandlerPropagatesAndItsRecordCountsAsConsumed() {
    produce(0, (byte) 1);
    produce(0, (byte) 2);
    try (BpfRingBuffer ring =
        ring(
            record -> {
              throw new IllegalStateException("decoder broke");
            })) {
      assertThatThrownBy(ring::consume).hasMessage("decoder broke");
      assertThat(consumer.getLong(0)).isEqualTo(16);
    }
  }

  @Test
  void readsARecordThatCrossesTheEndOfTheRingAndMasksPositionsAfterIt() {
    // A record whose header is 8 bytes before the end: its sample starts at the start of the area.
    produced = SIZE - 8;
    consumer.putLong(0, produced);
    byte[] wrapping = new byte[20];
    wrapping[0] = 7;
    wrapping[19] = 8;
    assertThat(produce(0, wrapping)).isEqualTo(SIZE - 8);
    assertThat(produce(0, (byte) 9)).isEqualTo(24);
    try (BpfRingBuffer ring = recording()) {
      assertThat(ring.consume()).isEqualTo(2);
    }
    assertThat(seen).containsExactly(wrapping, new byte[] {9});
    assertThat(consumer.getLong(0)).isEqualTo(SIZE + 40L);
  }

  @Test
  void copiesASampleThatStraddlesTheEndInTwoPieces() {
    produced = 3L * SIZE - 16; // third lap: positions are masked, the sample has 8 bytes left
    consumer.putLong(0, produced);
    byte[] straddling = new byte[21];
    for (int i = 0; i < straddling.length; i++) {
      straddling[i] = (byte) (i + 1);
    }
    assertThat(produce(0, straddling)).isEqualTo(SIZE - 16);
    try (BpfRingBuffer ring = recording()) {
      assertThat(ring.consume()).isEqualTo(1);
    }
    assertThat(seen).containsExactly(straddling);
    assertThat(consumer.getLong(0)).isEqualTo(3L * SIZE + 16);
  }

  @Test
  void growsTheRecordBufferForALargeRecord() {
    byte[] large = new byte[200];
    large[199] = 42;
    produce(0, (byte) 1);
    produce(0, large);
    try (BpfRingBuffer ring = recording()) {
      assertThat(ring.consume()).isEqualTo(2);
    }
    assertThat(seen.get(1)).isEqualTo(large);
  }

  @Test
  void pollConsumesOnlyAfterAWakeup() {
    produce(0, (byte) 1);
    try (BpfRingBuffer ring = recording()) {
      assertThat(ring.poll(10)).isZero();
      assertThat(wakeup.waits).containsExactly(10);
      assertThat(seen).isEmpty();

      wakeup.ready = true;
      assertThat(ring.poll(100)).isEqualTo(1);
      assertThat(seen).containsExactly(new byte[] {1});
    }
  }

  @Test
  void releaseGoesToTheWaitFromAnyThread() throws InterruptedException {
    try (BpfRingBuffer ring = recording()) {
      Thread other = new Thread(ring::release);
      other.start();
      other.join();
      assertThat(wakeup.releases).isEqualTo(1);
      assertThat(wakeup.closed).isZero();
    }
  }

  @Test
  void closeReleasesOnceAndAClosedRingRefusesToRead() {
    BpfRingBuffer ring = recording();
    ring.close();
    ring.close();
    assertThat(wakeup.closed).isEqualTo(1);
    assertThatThrownBy(ring::consume).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> ring.poll(1)).isInstanceOf(IllegalStateException.class);
  }

  private static final class FakeWakeup implements BpfRingBuffer.Wakeup {
    boolean ready;
    final List<Integer> waits = new ArrayList<>();
    int closed;
    int releases;

    @Override
    public boolean await(int timeoutMillis) {
      waits.add(timeoutMillis);
      return ready;
    }

    @Override
    public void release() {
      releases++;
    }

    @Override
    public void close() {
      closed++;
    }
  }
}
