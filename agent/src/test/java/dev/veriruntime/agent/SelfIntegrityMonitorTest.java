package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.pipeline.Classifier;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.verifier.pkg.PackageDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
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

  @Test
  void policyAndReferenceReplacedByRenameAreTwoFailuresAtTheFullCheckEachNamingItsFile(
      @TempDir Path dir) throws Exception {
    Path policy =
        Files.writeString(dir.resolve("policy.yaml"), "aggregation: {window-seconds: 10}\n");
    Path refs = Files.writeString(dir.resolve("refs.json"), "{}\n");
    SelfIntegrity files =
        new SelfIntegrity(PackageDatabase::empty, Optional.empty(), List::of)
            .withConfigFiles(List.of(policy, refs));
    // As an editor saves: a new file renamed over the old one (no open for writing of it).
    for (Path p : List.of(policy, refs)) {
      Path next = Files.writeString(p.resolveSibling(p.getFileName() + ".new"), "changed\n");
      Files.move(next, p, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
    SelfIntegrity.Check ok = new SelfIntegrity.Check("probe", "", true, false, "attached");
    Classifier classifier = new Classifier(Clock.systemUTC(), "h");

    StepVerifier.withVirtualTime(
            () ->
                new SelfIntegrityMonitor(
                        files,
                        () -> ok,
                        classifier,
                        Duration.ofMinutes(5),
                        VirtualTimeScheduler.get())
                    .events())
        .expectSubscription()
        .expectNoEvent(Duration.ofMinutes(5).minusSeconds(1))
        .thenAwait(Duration.ofSeconds(1))
        .assertNext(
            e -> {
              assertThat(e.reason()).startsWith("config-file " + policy + ": changed since");
              assertThat(e.details()).containsEntry("file", policy.toString());
            })
        .assertNext(e -> assertThat(e.details()).containsEntry("file", refs.toString()))
        .thenCancel()
        .verify(Duration.ofSeconds(10));
  }
}
