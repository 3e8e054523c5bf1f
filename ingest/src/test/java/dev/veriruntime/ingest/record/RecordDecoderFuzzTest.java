package dev.veriruntime.ingest.record;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.verifier.testing.InputBudget;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Jazzer target for {@link RecordDecoder}: the ring buffer is written by the probe, but a record's
 * strings (paths, command names) come from whoever runs a program, and a probe object of another
 * build, or a kernel bug, can hand over anything. Any bytes must decode to an event or raise the
 * declared {@link MalformedRecordException}; decoding leaves the buffer's position, limit and byte
 * order as they were (the slot is reused at once); the same bytes decode the same from a heap
 * buffer and from a direct buffer at an offset, as libbpf hands them over. Bounded per input by
 * {@link InputBudget}.
 *
 * <p>Seeds in {@code RecordDecoderFuzzTestInputs/}: the records captured from the kernel (the
 * decoder's fixtures) and every crash found.
 */
class RecordDecoderFuzzTest {
  private static final RecordDecoder DECODER = new RecordDecoder();

  @FuzzTest(maxDuration = "5m")
  void decodeRecord(byte[] input) {
    InputBudget.of(input.length).run(() -> check(input));
  }

  private static void check(byte[] input) {
    ByteBuffer heap = ByteBuffer.wrap(input);
    ByteBuffer direct = ByteBuffer.allocateDirect(input.length + 3).order(ByteOrder.BIG_ENDIAN);
    direct.position(3);
    direct.put(input);
    direct.position(3);
    RuntimeEvent fromHeap = decode(heap);
    RuntimeEvent fromDirect = decode(direct);
    assertThat(heap.position()).isZero();
    assertThat(heap.limit()).isEqualTo(input.length);
    assertThat(direct.position()).isEqualTo(3);
    assertThat(direct.limit()).isEqualTo(input.length + 3);
    assertThat(direct.order()).isEqualTo(ByteOrder.BIG_ENDIAN);
    assertThat(fromDirect).isEqualTo(fromHeap);
    if (fromHeap != null) {
      fromHeap.toString();
    }
  }

  /** The event, or null when the record was malformed (the declared outcome). */
  private static RuntimeEvent decode(ByteBuffer buffer) {
    try {
      RuntimeEvent event = DECODER.decode(buffer);
      assertThat(event).isNotNull();
      return event;
    } catch (MalformedRecordException declared) {
      assertThat(declared.getMessage()).isNotBlank();
      return null;
    }
  }
}
