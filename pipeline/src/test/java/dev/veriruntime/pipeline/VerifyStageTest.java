package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.ExecEvent;
import dev.veriruntime.ingest.event.ExecMappingEvent;
import dev.veriruntime.ingest.event.ExecutableFile;
import dev.veriruntime.ingest.event.MappingSource;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.ingest.event.TaskContext;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.Verdict;
import dev.veriruntime.verifier.reference.ReferenceStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

class VerifyStageTest {
  @TempDir Path dir;

  private final AtomicInteger laneTasks = new AtomicInteger();
  private final DropLedger ledger = new DropLedger();
  private final PipelineMetrics metrics = new PipelineMetrics(new SimpleMeterRegistry());

  /** Lanes that take tasks and never run them: whatever waits for a lane never leaves. */
  private VerifyStage stage() {
    ExecutableVerification verification =
        new ExecutableVerification(
            new BinaryVerifier(
                ReferenceStore.empty(), Clock.systemUTC(), BinaryVerifier.Options.defaults()),
            100,
            Schedulers.fromExecutor(task -> laneTasks.incrementAndGet()),
            Schedulers.fromExecutor(task -> laneTasks.incrementAndGet()),
            64L << 20,
            16,
            new ExecutableVerification.Inline(2L << 20, Duration.ofMillis(50)),
            metrics,
            ledger);
    return new VerifyStage(verification, new ProcessTable(100, ledger), metrics, 64);
  }

  @Test
  void anExecOfASmallNewFileIsAnsweredInItsBatchAndAMappingWaitsForALane() throws Exception {
    Path tool = Files.copy(Path.of("/usr/bin/true"), dir.resolve("new-tool"));
    Path library = Files.copy(Path.of("/usr/bin/false"), dir.resolve("new-library"));
    RuntimeEvent exec = exec(tool);
    RuntimeEvent mapping = mapping(library);

    StepVerifier.create(Flux.just(List.of(exec, mapping)).transform(stage()))
        .assertNext(
            batch -> {
              assertThat(batch).hasSize(1);
              assertThat(batch.get(0).event()).isSameAs(exec);
              assertThat(batch.get(0).check().verification().verdict()).isEqualTo(Verdict.UNKNOWN);
            })
        .expectNoEvent(Duration.ofMillis(100))
        .thenCancel()
        .verify(Duration.ofSeconds(10));
    assertThat(laneTasks).as("the mapping's file, handed to a lane").hasValue(1);
  }

  private static ExecutableFile file(Path path) throws Exception {
    FileIdentity id = BinaryVerifier.identity(path);
    return new ExecutableFile(id, 1, 0755, 0xEF53, false, false, path.toString(), false, 0);
  }

  private static ExecEvent exec(Path path) throws Exception {
    return new ExecEvent(
        System.nanoTime(), task(), 1, 77, 0, 0, path.toString(), false, file(path), false);
  }

  private static ExecMappingEvent mapping(Path path) throws Exception {
    return new ExecMappingEvent(
        System.nanoTime(),
        task(),
        0x7f0000000000L,
        4096,
        0,
        5,
        2,
        MappingSource.MMAP,
        3,
        file(path));
  }

  private static TaskContext task() {
    return new TaskContext(77, 77, 0, 0, 0, "new-tool");
  }
}
