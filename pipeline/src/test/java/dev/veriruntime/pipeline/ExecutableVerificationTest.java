package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.Verdict;
import dev.veriruntime.verifier.reference.ReferenceStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

class ExecutableVerificationTest {
  @TempDir Path dir;

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private ExecutableVerification service() {
    return new ExecutableVerification(
        new BinaryVerifier(
            ReferenceStore.empty(), Clock.systemUTC(), BinaryVerifier.Options.defaults()),
        100,
        Schedulers.boundedElastic(),
        Schedulers.boundedElastic(),
        64L << 20,
        16,
        new PipelineMetrics(registry),
        new DropLedger());
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
