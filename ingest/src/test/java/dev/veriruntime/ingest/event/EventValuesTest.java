package dev.veriruntime.ingest.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.verifier.FileIdentity;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EventValuesTest {

  @Test
  void kindCodesRoundTrip() {
    for (EventKind kind : EventKind.values()) {
      assertThat(EventKind.fromCode(kind.code())).contains(kind);
    }
    assertThat(EventKind.fromCode(0)).isEmpty();
    assertThat(EventKind.fromCode(9)).isEmpty();
    assertThat(EventKind.fromCode(-1)).isEmpty();
    assertThat(EventKind.fromCode(1 << 16)).isEmpty();
  }

  @Test
  void lostEventsAreImmutableAndTotalled() {
    Map<EventKind, Long> lost = new EnumMap<>(EventKind.class);
    lost.put(EventKind.EXEC, 3L);
    lost.put(EventKind.EXEC_MAPPING, 40L);
    LostEvent event = new LostEvent(100, 200, lost);
    lost.put(EventKind.EXIT, 1L);

    assertThat(event.total()).isEqualTo(43);
    assertThat(event.kernelTimeNanos()).isEqualTo(200);
    assertThat(event.lostByKind()).containsOnlyKeys(EventKind.EXEC, EventKind.EXEC_MAPPING);
    assertThatThrownBy(() -> new LostEvent(200, 100, Map.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void exitStatusAndSignalAreSplit() {
    TaskContext task = new TaskContext(1, 1, 0, 0, 1, "x");
    assertThat(new ExitEvent(0, task, 3 << 8).exitStatus()).isEqualTo(3);
    assertThat(new ExitEvent(0, task, 3 << 8).signal()).isZero();
    assertThat(new ExitEvent(0, task, 0x80 | 11).signal()).as("core dumped SIGSEGV").isEqualTo(11);
  }

  @Test
  void setuidAndSetgidComeFromTheMode() {
    FileIdentity id = new FileIdentity(1, 2, 3, 4);
    assertThat(new ExecutableFile(id, 1, 0104755, 0, false, false, "/su", false, 0).setuid())
        .isTrue();
    assertThat(new ExecutableFile(id, 1, 0102755, 0, false, false, "/x", false, 0).setgid())
        .isTrue();
    assertThat(new ExecutableFile(id, 1, 0100755, 0, false, false, "/x", false, 0).setuid())
        .isFalse();
  }
}
