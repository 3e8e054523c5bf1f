package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.ExecutableFile;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.Verdict;
import dev.veriruntime.verifier.reference.ReferenceStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

class ExecutableVerificationTest {
  @TempDir Path dir;

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private ExecutableVerification service() {
    return service(ExecutableVerification.Inline.OFF, Schedulers.boundedElastic());
  }

  private ExecutableVerification service(ExecutableVerification.Inline inline, Scheduler lanes) {
    return new ExecutableVerification(
        new BinaryVerifier(
            ReferenceStore.empty(), Clock.systemUTC(), BinaryVerifier.Options.defaults()),
        100,
        lanes,
        lanes,
        64L << 20,
        16,
        inline,
        new PipelineMetrics(registry),
        new DropLedger());
  }

  /** As the probe reports a file on ext4 (or, with {@code magic}, another filesystem). */
  private static ExecutableFile executed(Path bin, FileIdentity id, int magic) {
    return new ExecutableFile(id, 1, 0755, magic, false, false, bin.toString(), false, 0);
  }

  private static final int EXT4 = 0xEF53;
  private static final int NFS = 0x6969;

  @Test
  void aSmallNewFileOnALocalFilesystemIsVerifiedOnTheCallersThread() throws Exception {
    Path bin = Files.copy(Path.of("/usr/bin/true"), dir.resolve("new-tool"));
    FileIdentity id = BinaryVerifier.identity(bin);
    AtomicInteger laneTasks = new AtomicInteger();
    ExecutableVerification service =
        service(
            new ExecutableVerification.Inline(id.size(), Duration.ofMillis(50)),
            Schedulers.fromExecutor(task -> laneTasks.incrementAndGet()));

    Optional<ExecutableCheck> now = service.checkNow(executed(bin, id, EXT4), () -> null);

    assertThat(now).isPresent();
    assertThat(now.get().verification().verdict()).isEqualTo(Verdict.UNKNOWN);
    assertThat(laneTasks).hasValue(0);
    assertThat(service.hit(id)).contains(now.get());
    assertThat(registry.counter("veriruntime.cache.lookups", "result", "miss").count())
        .isEqualTo(1.0);
    assertThat(registry.counter("veriruntime.verifications", "thread", "reader").count())
        .isEqualTo(1.0);
    assertThat(registry.find("veriruntime.verifications").tag("thread", "lane").counter()).isNull();
  }

  @Test
  void largeFilesFilesOnANetworkAndFilesBeyondTheTimeBudgetWaitForALane() throws Exception {
    Path first = Files.copy(Path.of("/usr/bin/true"), dir.resolve("first"));
    Path second = Files.copy(Path.of("/usr/bin/true"), dir.resolve("second"));
    FileIdentity firstId = BinaryVerifier.identity(first);
    FileIdentity secondId = BinaryVerifier.identity(second);
    long size = firstId.size();
    AtomicInteger laneTasks = new AtomicInteger();
    // A budget of one nanosecond a second: the first verification overdraws it by far, and the
    // second file finds it still in debt.
    ExecutableVerification service =
        service(
            new ExecutableVerification.Inline(size, Duration.ofNanos(1)),
            Schedulers.fromExecutor(task -> laneTasks.incrementAndGet()));

    assertThat(service.checkNow(executed(first, firstId, NFS), () -> null)).isEmpty();
    FileIdentity larger =
        new FileIdentity(firstId.dev(), firstId.inode(), firstId.ctimeNanos(), size + 1);
    assertThat(service.checkNow(executed(first, larger, EXT4), () -> null)).isEmpty();
    assertThat(service.checkNow(executed(first, firstId, EXT4), () -> null)).isPresent();
    assertThat(service.checkNow(executed(second, secondId, EXT4), () -> null)).isEmpty();

    service.check(second.toString(), secondId, () -> null).subscribe();
    assertThat(laneTasks).hasValue(1);
    assertThat(service.checkNow(executed(second, secondId, EXT4), () -> null))
        .as("in flight on a lane: joined there, not hashed twice")
        .isEmpty();
  }

  @Test
  void fiveHundredConcurrentExecsOfANewBinaryHashItOnce() throws Exception {
    Path bin = Files.copy(Path.of("/usr/bin/true"), dir.resolve("new-tool"));
    FileIdentity id = BinaryVerifier.identity(bin);
    ExecutableVerification service = service();

    List<Mono<ExecutableCheck>> checks = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      checks.add(service.check(bin.toString(), id, () -> null));
    }
    StepVerifier.create(Flux.merge(checks))
        .thenConsumeWhile(c -> c.verified() && c.verification().verdict() == Verdict.UNKNOWN)
        .verifyComplete();

    assertThat(registry.counter("veriruntime.verdicts", "verdict", "UNKNOWN").count())
        .isEqualTo(1.0);
    assertThat(registry.counter("veriruntime.cache.lookups", "result", "miss").count())
        .isEqualTo(1.0);
    assertThat(registry.counter("veriruntime.cache.lookups", "result", "inflight").count())
        .isEqualTo(499.0);
    assertThat(registry.counter("veriruntime.verifications", "thread", "lane").count())
        .isEqualTo(1.0);
    assertThat(service.hit(id)).isPresent();
    assertThat(registry.counter("veriruntime.cache.lookups", "result", "hit").count())
        .isEqualTo(1.0);
  }

  @Test
  void replacedFileIsUnverifiableByPathAndNotCached() throws Exception {
    Path bin = Files.copy(Path.of("/usr/bin/true"), dir.resolve("tool"));
    FileIdentity executed = BinaryVerifier.identity(bin);
    Files.delete(bin);
    Files.copy(Path.of("/usr/bin/false"), bin);
    ExecutableVerification service = service();

    StepVerifier.create(service.check(bin.toString(), executed, () -> "/proc/999999999/exe"))
        .assertNext(
            c -> {
              assertThat(c.verified()).isTrue();
              assertThat(c.verification().verdict()).isEqualTo(Verdict.DEGRADED);
              assertThat(c.verification().coverage().toString())
                  .contains("file changed since exec");
            })
        .verifyComplete();
    assertThat(service.hit(executed)).isEmpty();
  }

  @Test
  void vanishedFileIsUnverifiableWithTheReason() throws Exception {
    Path bin = Files.copy(Path.of("/usr/bin/true"), dir.resolve("gone"));
    FileIdentity executed = BinaryVerifier.identity(bin);
    Files.delete(bin);

    StepVerifier.create(service().check(bin.toString(), executed, () -> "/proc/999999999/exe"))
        .assertNext(
            c -> {
              assertThat(c.verified()).isFalse();
              assertThat(c.unverifiableReason())
                  .contains("could not be opened through /proc")
                  .contains(bin.toString());
            })
        .verifyComplete();
  }
}
