package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.EventKind;
import dev.veriruntime.ingest.event.ExecEvent;
import dev.veriruntime.ingest.event.ExecutableFile;
import dev.veriruntime.ingest.event.ExitEvent;
import dev.veriruntime.ingest.event.LostEvent;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.ingest.event.TaskContext;
import dev.veriruntime.verifier.FileIdentity;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/** The first stage on batches of one ring-buffer round (no kernel needed). */
class TrackStageTest {
  private final DropLedger ledger = new DropLedger();
  private final ProcessTable table = new ProcessTable(100, ledger);
  private final TrackStage stage =
      new TrackStage(table, ledger, new PipelineMetrics(new SimpleMeterRegistry()));

  @Test
  void aLossInsideABatchGoesToTheLedgerAndTheOtherEventsGoOnInOrder() {
    RuntimeEvent first = exec(10);
    RuntimeEvent lost = new LostEvent(0, 1, Map.of(EventKind.EXEC, 3L));
    RuntimeEvent second = exec(11);
    RuntimeEvent exit = new ExitEvent(2, task(10), 0);

    StepVerifier.create(Flux.just(List.of(first, lost, second, exit)).transform(stage))
        .expectNext(List.of(first, second, exit))
        .verifyComplete();

    assertThat(ledger.drain()).containsEntry("kernel.exec", 3L);
    assertThat(table.get(11)).isPresent();
  }

  @Test
  void aBatchOfWhichNothingIsLeftIsNotPassedOn() {
    RuntimeEvent lost = new LostEvent(0, 1, Map.of(EventKind.EXIT, 1L));
    StepVerifier.create(
            Flux.<List<RuntimeEvent>>just(List.of(lost), List.of(exec(12))).transform(stage))
        .expectNext(List.of(exec(12)))
        .verifyComplete();
  }

  private static ExecEvent exec(int pid) {
    ExecutableFile file =
        new ExecutableFile(
            new FileIdentity(1, 1000 + pid, 0, 100),
            1,
            0755,
            0,
            false,
            false,
            "/usr/bin/b",
            false,
            0);
    return new ExecEvent(1, task(pid), 1, pid, 0, 0, "/usr/bin/b", false, file, false);
  }

  private static TaskContext task(int pid) {
    return new TaskContext(pid, pid, 0, 0, 0, "b");
  }
}
