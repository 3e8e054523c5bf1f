package dev.veriruntime.benchmarks;

import dev.veriruntime.sinks.EventIds;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * One event id ({@link EventIds#next}, UUIDv7 text) per operation. {@code secureRandomBaseline} is
 * how ids were made before: a {@link SecureRandom} call for {@code rand_a} and one for {@code
 * rand_b} per id, then the same text.
 *
 * <p>Overrides the output unit (nanoseconds: an id is well under a microsecond).
 */
@State(Scope.Benchmark)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class EventIdBenchmark extends AbstractBenchmark {
  private static final SecureRandom RANDOM = new SecureRandom();
  private final Instant time = Instant.parse("2026-12-03T14:00:00.123Z");

  @Benchmark
  public String next() {
    return EventIds.next(time);
  }

  @Benchmark
  public String secureRandomBaseline() {
    long millis = time.toEpochMilli() & 0xFFFF_FFFF_FFFFL;
    long msb = (millis << 16) | (0x7L << 12) | RANDOM.nextInt(1 << 12);
    long lsb = (RANDOM.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
    return new UUID(msb, lsb).toString();
  }
}
