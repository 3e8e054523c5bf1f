package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.pipeline.Classifier;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.verifier.pkg.PackageDatabase;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

class SelfIntegrityMonitorTest {
  @Test
  void aDetachedProgramIsReportedWithinASecondAndOnlyOnceWhileItStaysDetached() {
    AtomicInteger calls = new AtomicInteger();
    SelfIntegrity.Check ok = new SelfIntegrity.Check("probe", "", true, false, "attached");
    SelfIntegrity.Check detached =
        new SelfIntegrity.Check("probe", "", false, true, "no longer attached: exec");
    Classifier classifier =
        new Classifier(Clock.fixed(Instant.parse("2026-12-03T00:00:00Z"), ZoneOffset.UTC), "h");
    SelfIntegrity files = new SelfIntegrity(PackageDatabase::empty, Optional.empty(), List::of);

    StepVerifier.withVirtualTime(
            () ->
                new SelfIntegrityMonitor(
                        files,
                        () -> calls.incrementAndGet() <= 2 ? ok : detached,
                        classifier,
                        Duration.ofMinutes(5),
                        VirtualTimeScheduler.get())
                    .events())
        .expectSubscription()
        .expectNoEvent(Duration.ofSeconds(2))
        .thenAwait(Duration.ofSeconds(1))
        .assertNext(
            e -> {
              assertThat(e.type()).isEqualTo(EventType.SELF_INTEGRITY_FAILURE);
              assertThat(e.reason()).isEqualTo("probe: no longer attached: exec");
            })
        .expectNoEvent(Duration.ofSeconds(30))
        .thenCancel()
        .verify(Duration.ofSeconds(10));
  }
}
