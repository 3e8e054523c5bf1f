package dev.veriruntime.verifier.testing;

import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The per-input bound of the fuzz targets: parsing one hostile input may allocate at most {@code
 * fixed + perInputByte × length} bytes and spend at most {@link #MAX_CPU_NANOS} of CPU on the
 * calling thread, else it is a finding ({@link AssertionError}), like an undeclared exception.
 * Allocation and CPU time of the current thread are what count (HotSpot's {@code
 * com.sun.management.ThreadMXBean}), so other tests and the machine's load do not. The CPU bound is
 * a hang and blow-up guard, not a timing: a parse that is merely slow stays far below it.
 *
 * <pre>{@code
 * InputBudget.of(input.length).run(() -> ProcMaps.parse(text));
 * }</pre>
 *
 * <p>Call from the thread that parses. The first call of a JVM runs the work twice, once uncounted
 * (class loading), so targets must be pure: the same input gives the same result.
 */
public final class InputBudget {
  /** What any single input may cost beyond its size. */
  public static final long FIXED_BYTES = 64L << 20;

  /** Allowed amplification: bytes allocated per input byte. */
  public static final long BYTES_PER_INPUT_BYTE = 512;

  /** CPU time one input may take: far above any honest parse of a fuzzer-sized input. */
  public static final long MAX_CPU_NANOS = 5_000_000_000L;

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  /** Work that may throw the parser's declared (checked) exception. */
  @FunctionalInterface
  public interface Work<E extends Exception> {
    void run() throws E;
  }

  private static final AtomicBoolean WARM = new AtomicBoolean();

  private final long maxBytes;

  private InputBudget(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** The budget of an input of {@code length} bytes. */
  public static InputBudget of(long length) {
    return new InputBudget(FIXED_BYTES + BYTES_PER_INPUT_BYTE * Math.max(0, length));
  }

  /**
   * Runs {@code work}; its exceptions pass through unchanged (the caller decides which are
   * declared), and going over the budget, whether {@code work} returned or threw, is an {@link
   * AssertionError}.
   */
  public <E extends Exception> void run(Work<E> work) throws E {
    if (WARM.compareAndSet(false, true)) {
      // The first call of a JVM loads the parser's classes (and, under the fuzzer, instruments
      // them): tens of MiB that are not this input's cost. Run it once uncounted; what it throws
      // the counted run below throws again.
      try {
        work.run();
      } catch (Exception ignored) {
        // thrown again below
      }
    }
    long allocatedBefore = THREADS.getCurrentThreadAllocatedBytes();
    long cpuBefore = THREADS.getCurrentThreadCpuTime();
    try {
      work.run();
    } finally {
      long allocated = THREADS.getCurrentThreadAllocatedBytes() - allocatedBefore;
      long cpu = THREADS.getCurrentThreadCpuTime() - cpuBefore;
      if (allocated > maxBytes) {
        throw new AssertionError(
            "one input allocated " + allocated + " bytes, over its budget of " + maxBytes);
      }
      if (cpu > MAX_CPU_NANOS) {
        throw new AssertionError(
            "one input took " + cpu / 1_000_000 + " ms of CPU, over " + MAX_CPU_NANOS / 1_000_000);
      }
    }
  }
}
