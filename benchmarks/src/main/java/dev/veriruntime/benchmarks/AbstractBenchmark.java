package dev.veriruntime.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Fork and warm-up settings shared by every JMH benchmark of the project, so that numbers from
 * different benchmarks were measured the same way. Subclasses add {@code @State} and
 * {@code @Benchmark} methods; override an annotation on the subclass only with a reason.
 *
 * <p>One fork keeps a run short on a shared 2-core machine; JIT and page-cache noise is what the
 * three warm-up iterations are for. Compare numbers within one run (ratios), not across days.
 */
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+UseParallelGC"})
@Warmup(iterations = 3, time = 2, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 2, timeUnit = TimeUnit.SECONDS)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public abstract class AbstractBenchmark {}
