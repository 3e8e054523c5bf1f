package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.testing.RecordingSink;
import dev.veriruntime.verifier.FileIdentity;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;
import reactor.test.scheduler.VirtualTimeScheduler;

/** Rate limits, drop accounting and backpressure of the sink end of the pipeline. */
class SinkStageTest {

  private static SecurityEvent event(int i) {
    return SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, Instant.EPOCH)
        .reason("event " + i)
        .build();
  }

  @Test
  void tokenBucketAdmitsBurstThenRateAndCountsEveryRefusalAsADrop() {
    VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    RecordingSink sink = new RecordingSink("rec", 1000, Schedulers.immediate());
    DropLedger ledger = new DropLedger();
    SinkStage stage = new SinkStage(List.of(SinkStage.route(sink, 2, 5, vts)), ledger);
    TestPublisher<SecurityEvent> source = TestPublisher.create();

    StepVerifier.withVirtualTime(() -> source.flux().transform(stage), () -> vts, Long.MAX_VALUE)
        .then(
            () -> {
              for (int i = 0; i < 20; i++) {
                source.next(event(i));
              }
            })
        .expectNextCount(20)
        .then(() -> vts.advanceTimeBy(Duration.ofSeconds(3)))
        .then(
            () -> {
              for (int i = 20; i < 30; i++) {
                source.next(event(i));
              }
            })
        .expectNextCount(10)
        .then(source::complete)
        .verifyComplete();

    // 5 (the burst) at once; 3 s at 2/s refill 6 tokens, capped at the burst: 5 more. The other 20
    // are refused and counted.
    assertThat(sink.stats().accepted()).isEqualTo(10);
    assertThat(ledger.drain()).containsExactly(Map.entry("sink.rec.rate_limited", 20L));
  }

  @Test
  void dropReportsBypassTheRateLimitSoAFloodCannotHideItsOwnLosses() {
    VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    RecordingSink sink = new RecordingSink("rec", 1000, Schedulers.immediate());
    DropLedger ledger = new DropLedger();
    SinkStage stage = new SinkStage(List.of(SinkStage.route(sink, 1, 1, vts)), ledger);
    DropReporter reporter = new DropReporter(ledger, stage, Duration.ofSeconds(5), vts, "h");

    StepVerifier.withVirtualTime(
            () ->
                Flux.merge(Flux.range(0, 10).map(SinkStageTest::event), reporter.reports().take(1))
                    .transform(stage),
            () -> vts,
            Long.MAX_VALUE)
        .expectNextCount(10)
        .thenAwait(Duration.ofSeconds(5))
        .assertNext(
            report -> {
              assertThat(report.type()).isEqualTo(EventType.VERIFICATION_DEGRADED);
              assertThat(report.details())
                  .containsEntry("lost", Map.of("sink.rec.rate_limited", 9L));
              assertThat(report.reason()).contains("9 events not fully handled");
            })
        .verifyComplete();
    assertThat(sink.stats().accepted()).isEqualTo(2); // one event within the rate, plus the report
  }

  @Test
  void aSinkThatFailsEverythingIsReportedOnceWhenItStartsAndOnceWhenItRecovers() {
    VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    RecordingSink journal = new RecordingSink("journal", 1000, Schedulers.immediate());
    RecordingSink console = new RecordingSink("console", 1000, Schedulers.immediate());
    DropLedger ledger = new DropLedger();
    SinkStage stage =
        new SinkStage(
            List.of(
                SinkStage.route(journal, 1e6, 1_000_000, vts),
                SinkStage.route(console, 1e6, 1_000_000, vts)),
            ledger);
    DropReporter reporter = new DropReporter(ledger, stage, Duration.ofSeconds(5), vts, "h");
    assertThat(reporter.report()).as("window opened at 0, nothing lost").isEmpty();
    emit(stage, 3);
    journal.failFromNowOn(); // the disk under the journal is full
    emit(stage, 4);
    vts.advanceTimeBy(Duration.ofSeconds(5));
    List<SecurityEvent> failing = reporter.report();
    assertThat(failing).hasSize(1);
    assertThat(failing.get(0).type()).isEqualTo(EventType.VERIFICATION_DEGRADED);
    assertThat(failing.get(0).details())
        .containsEntry("check", "sink-failing")
        .containsEntry("sink", "journal")
        .containsEntry("failure", "IOException: downstream told to fail")
        .containsEntry(
            "window", Map.of("from", "1970-01-01T00:00:00Z", "to", "1970-01-01T00:00:05Z"));
    assertThat(failing.get(0).reason())
        .startsWith("sink journal is failing (IOException: downstream told to fail)");

    // Still failing: nothing more is said, however much it fails.
    for (int window = 0; window < 3; window++) {
      emit(stage, 10);
      vts.advanceTimeBy(Duration.ofSeconds(5));
      assertThat(reporter.report()).isEmpty();
    }
    journal.deliverAgain();
    emit(stage, 2);
    vts.advanceTimeBy(Duration.ofSeconds(5));
    List<SecurityEvent> recovered = reporter.report();
    assertThat(recovered).hasSize(1);
    assertThat(recovered.get(0).details())
        .containsEntry("check", "sink-recovered")
        .containsEntry("undelivered", 34L)
        .containsEntry(
            "window", Map.of("from", "1970-01-01T00:00:00Z", "to", "1970-01-01T00:00:25Z"));
    assertThat(recovered.get(0).reason())
        .isEqualTo(
            "sink journal delivers again after failing for 25.0 s (IOException: downstream told to"
                + " fail): 34 events from 1970-01-01T00:00:00Z to 1970-01-01T00:00:25Z were not"
                + " delivered to it");
    assertThat(console.received()).as("the other sink got everything").hasSize(39);
    assertThat(ledger.totals()).containsEntry("sink.journal.failed", 34L);
    assertThat(reporter.report()).as("recovered, nothing more").isEmpty();
  }

  private static void emit(SinkStage stage, int n) {
    Flux.range(0, n).map(SinkStageTest::event).transform(stage).blockLast();
  }

  @Test
  void nothingLostMeansNoReport() {
    VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    DropReporter reporter =
        new DropReporter(new DropLedger(), null, Duration.ofSeconds(5), vts, "h");
    StepVerifier.withVirtualTime(() -> reporter.reports(), () -> vts, Long.MAX_VALUE)
        .expectSubscription()
        .expectNoEvent(Duration.ofSeconds(60))
        .thenCancel()
        .verify();
  }

  @Test
  void aFullSinkBufferDropsAreCollectedIntoTheLedgerAsDeltas() {
    RecordingSink sink = new RecordingSink("slow", 2, Schedulers.newSingle("never-run-here"));
    sink.close(); // closed: every emit is refused and counted by the sink itself
    DropLedger ledger = new DropLedger();
    SinkStage stage =
        new SinkStage(
            List.of(new SinkStage.Route(sink, new TokenBucket(1e9, 1_000_000, () -> 0L))), ledger);
    StepVerifier.create(Flux.range(0, 7).map(SinkStageTest::event).transform(stage))
        .expectNextCount(7)
        .verifyComplete();
    stage.collectSinkDrops();
    assertThat(ledger.drain()).containsEntry("sink.slow.dropped", 7L);
    stage.collectSinkDrops();
    assertThat(ledger.drain()).isEmpty();
  }

  @Test
  void verifyStageSignalsBoundedDemandUpstreamWhileVerificationIsSlow() throws Exception {
    // A verification lane that never runs its tasks: every new binary stays "being verified".
    reactor.core.scheduler.Scheduler stalled = Schedulers.fromExecutor(task -> {});
    DropLedger ledger = new DropLedger();
    PipelineMetrics metrics =
        new PipelineMetrics(new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
    ExecutableVerification verification =
        new ExecutableVerification(
            new dev.veriruntime.verifier.BinaryVerifier(
                dev.veriruntime.verifier.reference.ReferenceStore.empty(),
                java.time.Clock.systemUTC(),
                dev.veriruntime.verifier.BinaryVerifier.Options.defaults()),
            100,
            stalled,
            stalled,
            1L << 40,
            0,
            ExecutableVerification.Inline.OFF,
            metrics,
            ledger);
    // At most 16 events waiting, in batches of at most 4: at most 4 batches taken from upstream.
    VerifyStage stage =
        new VerifyStage(
            verification, new ProcessTable(100, ledger), metrics, 16, BuildLineage.OFF, 4);
    TestPublisher<java.util.List<dev.veriruntime.ingest.event.RuntimeEvent>> source =
        TestPublisher.createCold();
    for (int i = 0; i < 100; i += 4) {
      source.next(java.util.List.of(exec(i), exec(i + 1), exec(i + 2), exec(i + 3)));
    }

    StepVerifier.create(source.flux().transform(stage)).expectSubscription().thenCancel().verify();

    source.assertMaxRequested(4);
  }

  private static dev.veriruntime.ingest.event.ExecEvent exec(int i) {
    var id = new FileIdentity(1, 1000 + i, 0, 100);
    var file =
        new dev.veriruntime.ingest.event.ExecutableFile(
            id, 1, 0755, 0, false, false, "/tmp/b" + i, false, 0);
    var task = new dev.veriruntime.ingest.event.TaskContext(10 + i, 10 + i, 0, 0, 0, "b" + i);
    return new dev.veriruntime.ingest.event.ExecEvent(
        0, task, 1, 0, 0, 0, "/tmp/b" + i, false, file, false);
  }
}
