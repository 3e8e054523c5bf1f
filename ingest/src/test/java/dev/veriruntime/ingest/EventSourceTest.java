package dev.veriruntime.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.ingest.event.EventKind;
import dev.veriruntime.ingest.event.LostEvent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import org.junit.jupiter.api.Test;

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
}
