package dev.veriruntime.benchmarks;

import dev.veriruntime.ingest.kernel.BpfLink;
import dev.veriruntime.ingest.kernel.BpfObject;
import dev.veriruntime.ingest.kernel.BpfRingBuffer;
import dev.veriruntime.ingest.kernel.ThreadPriority;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * The wake-up floor of a Java reader ({@code benchmarks/wakeup-floor.sh}): the C floor's program
 * ({@code benchmarks/wakeup-floor/floor.bpf.c}) read through the agent's own door to the kernel,
 * {@link BpfRingBuffer} (epoll through jnr-ffi, the ring read in Java), by one real-time thread
 * (SCHED_FIFO 1, as the agent's ring reader) that only takes each record's arrival time: what the
 * JVM adds to the C floor before any of the agent's pipeline runs.
 *
 * <p>{@code WakeupFloor OBJECT WARM N} prints {@code ready} once attached, takes WARM records
 * unmeasured (the reader's code compiled, as the agent's is when measured) and, after N more,
 * prints the C floor's line: {@code all N P50 P90 P99 same N P50 other N P50} (µs from the kernel's
 * exec time: {@link System#nanoTime} and the probe's {@code bpf_ktime_get_ns} are both
 * CLOCK_MONOTONIC; same/other: whether the reader ran on the exec's CPU, read from {@code
 * /proc/thread-self/stat} after the time is taken).
 */
public final class WakeupFloor {
  private final long[] all;
  private final long[] same;
  private final long[] other;
  private int taken;
  private int sameCount;
  private int otherCount;

  private WakeupFloor(int warm, int want) {
    all = new long[want];
    same = new long[want];
    other = new long[want];
    taken = -warm;
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 3) {
      System.err.println("usage: WakeupFloor OBJECT WARM N");
      System.exit(2);
    }
    WakeupFloor floor = new WakeupFloor(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
    try (BpfObject object = BpfObject.open("floor", Files.readAllBytes(Path.of(args[0])))) {
      object.load();
      try (BpfLink link = object.attach("floor_exec");
          BpfRingBuffer ring = new BpfRingBuffer(object.mapFd("records"), floor::onRecord)) {
        Optional<String> notRealtime = ThreadPriority.setRealtime(1);
        if (notRealtime.isPresent()) {
          System.err.println("WakeupFloor: cannot run real-time: " + notRealtime.get());
          System.exit(1);
        }
        System.out.println("ready");
        System.out.flush();
        while (floor.taken < floor.all.length) {
          ring.poll(1000);
        }
      }
    }
    System.out.printf(
        "all %d %.1f %.1f %.1f same %d %.1f other %d %.1f%n",
        floor.all.length,
        quantile(floor.all, floor.all.length, 0.5),
        quantile(floor.all, floor.all.length, 0.9),
        quantile(floor.all, floor.all.length, 0.99),
        floor.sameCount,
        quantile(floor.same, floor.sameCount, 0.5),
        floor.otherCount,
        quantile(floor.other, floor.otherCount, 0.5));
  }

  private boolean onRecord(ByteBuffer record) {
    long now = System.nanoTime();
    int i = taken++;
    if (i >= 0 && i < all.length) {
      record.order(ByteOrder.LITTLE_ENDIAN);
      long nanos = now - record.getLong(0);
      all[i] = nanos;
      if (currentCpu() == record.getInt(8)) {
        same[sameCount++] = nanos;
      } else {
        other[otherCount++] = nanos;
      }
    }
    return true;
  }

  /** The CPU this thread runs on (field 39 of its stat line), or -1 when unreadable. */
  private static int currentCpu() {
    try {
      String stat = Files.readString(Path.of("/proc/thread-self/stat"));
      return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[36]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * The q-quantile of the first n values (sorted here), in µs, as the C floor takes it; -1 without
   * any.
   */
  private static double quantile(long[] values, int n, double q) {
    if (n == 0) {
      return -1;
    }
    Arrays.sort(values, 0, n);
    return values[(int) (q * (n - 1) + 0.5)] / 1000.0;
  }
}
