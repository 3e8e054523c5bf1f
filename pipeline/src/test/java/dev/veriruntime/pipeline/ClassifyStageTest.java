package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.AnonymousExecEvent;
import dev.veriruntime.ingest.event.MappingSource;
import dev.veriruntime.ingest.event.ScannedProcess;
import dev.veriruntime.ingest.event.TaskContext;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.verifier.FileIdentity;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ClassifyStageTest {
  private final DropLedger ledger = new DropLedger();
  private final ProcessTable table = new ProcessTable(100, ledger);

  private ClassifyStage stage(Set<String> jitAllowance) {
    return new ClassifyStage(new Classifier(Clock.systemUTC(), "h"), table, jitAllowance,
        new PipelineMetrics(new SimpleMeterRegistry()), ledger);
  }

  @Test
  void aKernelThreadFromTheStartupScanIsNoEventAndNoError() {
    ScannedProcess kthread = new ScannedProcess(0, 2, 0, 0, 0, "kthreadd", Optional.empty());
    assertThat(stage(Set.of()).classify(new Observation(kthread, null))).isEmpty();
    assertThat(ledger.drain()).isEmpty();
  }

  @Test
  void anonymousWritableExecutableMemoryIsDriftUnlessTheVerifiedExecutableIsAllowed() {
    table.started(new ProcessTable.Entry(900_001, 1, "/usr/bin/jit", new FileIdentity(1, 2, 3, 4), 7, "jit", null));
    table.verified(900_001, new FileIdentity(1, 2, 3, 4), "ab".repeat(32));
    AnonymousExecEvent rwx = new AnonymousExecEvent(0, new TaskContext(900_001, 900_001, 0, 0, 7, "jit"),
        0x7f0000000000L, 4096, 0x7, 0x22, MappingSource.MMAP);

    List<SecurityEvent> events = stage(Set.of()).classify(new Observation(rwx, null));
    assertThat(events).singleElement().satisfies(e -> {
      assertThat(e.type()).isEqualTo(EventType.RUNTIME_DRIFT);
      assertThat(e.reason()).contains("anonymous writable+executable memory").contains("/usr/bin/jit").doesNotContain("900001");
    });
    assertThat(stage(Set.of("ab".repeat(32))).classify(new Observation(rwx, null))).isEmpty();
    assertThat(stage(Set.of("cd".repeat(32))).classify(new Observation(rwx, null))).hasSize(1);
  }
}
