package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FoldKeysTest {

  private static SecurityEvent jit(int pid, long size, long address) {
    return SecurityEvent.builder(EventType.RUNTIME_DRIFT, Instant.EPOCH)
        .pid(pid)
        .exe("/usr/bin/node", 1, 2, "aa".repeat(32))
        .reason(
            "running process /usr/bin/node: MEMORY_MAP failed: anonymous executable region at 0x"
                + Long.toHexString(address)
                + " ("
                + size
                + " bytes)")
        .detail("check", "re-attestation")
        .detail("scope", "MEMORY_MAP")
        .detail("finding", "ANONYMOUS_EXECUTABLE_MEMORY")
        .finding("ANONYMOUS_EXECUTABLE_MEMORY", "MEMORY_MAP", size + " bytes", Map.of())
        .build();
  }

  @Test
  void aGrowingJitRegionInAnotherProcessHasTheSameKey() {
    assertThat(FoldKeys.of(jit(100, 4096, 0x7f0000001000L)))
        .isEqualTo(FoldKeys.of(jit(200, 1 << 20, 0x7f00deadb000L)));
  }

  @Test
  void theKeyIsMadeOfTypeFindingAndDigestNotText() {
    String key = FoldKeys.of(jit(100, 4096, 0x7f0000001000L)).toString();
    assertThat(key)
        .isEqualTo(
            "RUNTIME_DRIFT|ANONYMOUS_EXECUTABLE_MEMORY/re-attestation/MEMORY_MAP@"
                + "aa".repeat(32))
        .doesNotContain("100")
        .doesNotContain("4096");
  }

  private static SecurityEvent ownFileWritten(String file, int writerPid) {
    return SecurityEvent.builder(EventType.SELF_INTEGRITY_FAILURE, Instant.EPOCH)
        .reason("agent file " + file + " opened for writing by pid " + writerPid + " (/bin/sh)")
        .detail("component", "own-file")
        .detail("check", "self-watch")
        .detail("file", file)
        .detail("writerPid", writerPid)
        .build();
  }

  @Test
  void writesIntoTwoOfTheAgentsFilesAreTwoKeysTheSameFileAgainIsOne() {
    assertThat(FoldKeys.of(ownFileWritten("/etc/veriruntime/policy.yaml", 10)))
        .isNotEqualTo(FoldKeys.of(ownFileWritten("/etc/veriruntime/refs.json", 10)))
        .isEqualTo(FoldKeys.of(ownFileWritten("/etc/veriruntime/policy.yaml", 11)));
  }

  @Test
  void anotherDigestOrFindingIsAnotherKey() {
    SecurityEvent other =
        SecurityEvent.builder(EventType.RUNTIME_DRIFT, Instant.EPOCH)
            .exe("/usr/bin/node", 1, 2, "bb".repeat(32))
            .reason("x")
            .detail("finding", "ANONYMOUS_EXECUTABLE_MEMORY")
            .build();
    assertThat(FoldKeys.of(other)).isNotEqualTo(FoldKeys.of(jit(1, 1, 1)));
  }

  @Test
  void anEventWithoutFactsFallsBackToItsReasonWithNumbersMasked() {
    SecurityEvent a =
        SecurityEvent.builder(EventType.SELF_INTEGRITY_FAILURE, Instant.EPOCH)
            .reason("agent stalled for 1234 ms")
            .build();
    SecurityEvent b =
        SecurityEvent.builder(EventType.SELF_INTEGRITY_FAILURE, Instant.EPOCH)
            .reason("agent stalled for 98 ms")
            .build();
    assertThat(FoldKeys.of(a)).isEqualTo(FoldKeys.of(b));
  }

  @Test
  void lossReportsAreNeverFolded() {
    SecurityEvent a =
        SecurityEvent.builder(EventType.VERIFICATION_DEGRADED, Instant.EPOCH)
            .reason("events not fully handled")
            .detail(SinkStage.DROP_REPORT, true)
            .build();
    SecurityEvent b =
        SecurityEvent.builder(EventType.VERIFICATION_DEGRADED, Instant.EPOCH)
            .reason("events not fully handled")
            .detail(SinkStage.DROP_REPORT, true)
            .build();
    assertThat(FoldKeys.of(a)).isNotEqualTo(FoldKeys.of(b));
  }
}
