package dev.veriruntime.benchmarks;

import dev.veriruntime.pipeline.DropLedger;
import dev.veriruntime.pipeline.ExecutableCheck;
import dev.veriruntime.pipeline.ExecutableVerification;
import dev.veriruntime.pipeline.PipelineMetrics;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.elf.ElfHeader;
import dev.veriruntime.verifier.pkg.PackageDatabase;
import dev.veriruntime.verifier.reference.ReferenceStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.EnumSet;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The verification of an exec whose file identity was verified before: the path every exec of a
 * build tool takes after its first. {@code hit} is what {@code VerifyStage} calls per exec ({@link
 * ExecutableVerification#hit}: LRU lookup and cache metric, answered in place), {@code checkHit}
 * the general {@link ExecutableVerification#check} on the same identity (lookup, metric, the Mono
 * around the answer, subscribed: what every cached exec cost before the in-place path), and {@code
 * hashMapBaseline} a {@link ConcurrentHashMap} lookup of the same key: the least a cache can cost.
 *
 * <p>Nanoseconds per operation (overrides the base class's milliseconds: one lookup is far below a
 * millisecond). Run: {@code java -jar benchmarks/target/benchmarks.jar CacheHitBenchmark}.
 */
@State(Scope.Benchmark)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CacheHitBenchmark extends AbstractBenchmark {
  private static final String BINARY = "/usr/bin/ls";

  private Scheduler lanes;
  private ExecutableVerification verification;
  private FileIdentity identity;
  private final ConcurrentHashMap<FileIdentity, ExecutableCheck> baseline =
      new ConcurrentHashMap<>();

  @Setup(Level.Trial)
  public void verifyOnce() throws IOException {
    // The daemon's scopes for an exec, without references or package database: the verdict does
    // not matter for a hit, only that the check is cached.
    BinaryVerifier verifier =
        new BinaryVerifier(
            ReferenceStore.empty(),
            PackageDatabase.empty(),
            Clock.systemUTC(),
            new BinaryVerifier.Options(
                EnumSet.of(
                    dev.veriruntime.verifier.Scope.DISK_HASH,
                    dev.veriruntime.verifier.Scope.ELF_HEADER),
                ElfHeader.hostMachine()));
    lanes = Schedulers.newBoundedElastic(2, 1024, "bench-verify");
    verification =
        new ExecutableVerification(
            verifier,
            65_536,
            lanes,
            lanes,
            64L << 20,
            1024,
            ExecutableVerification.Inline.OFF,
            new PipelineMetrics(new SimpleMeterRegistry()),
            new DropLedger());
    identity = BinaryVerifier.identity(Path.of(BINARY));
    ExecutableCheck first = verification.check(BINARY, identity, () -> null).block();
    if (first == null || !first.verified() || verification.hit(identity).isEmpty()) {
      throw new IllegalStateException(BINARY + " was not verified and cached: " + first);
    }
    baseline.put(identity, first);
  }

  @TearDown(Level.Trial)
  public void stopLanes() {
    lanes.dispose();
  }

  @Benchmark
  public ExecutableCheck checkHit() {
    return verification.check(BINARY, identity, () -> null).block();
  }

  @Benchmark
  public Optional<ExecutableCheck> hit() {
    return verification.hit(identity);
  }

  @Benchmark
  public ExecutableCheck hashMapBaseline() {
    return baseline.get(identity);
  }
}
