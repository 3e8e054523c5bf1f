package dev.veriruntime.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Where a JVM's CPU goes, by thread: samples of utime + stime of every thread of a process ({@code
 * /proc/PID/task/TID/stat}, fields 14 and 15) with its name ({@code comm}, 15 characters at most),
 * sorted into the HotSpot JIT compilers, the garbage collector and the VM's own threads, the
 * agent's ring-buffer reader, and the rest. Also the rule that ends the warm-up storm once the JIT
 * has settled.
 */
final class AgentThreads {
  private AgentThreads() {}

  /** What a thread does, by its name. */
  enum Kind {
    /** HotSpot's C1 and C2 compiler threads ("C1 CompilerThre", "C2 CompilerThre"). */
    JIT,
    /** Garbage collection and the VM's housekeeping threads. */
    GC_VM,
    /** The agent's ring-buffer reader ("veriruntime-ring-…"): the per-exec Java work. */
    RING,
    OTHER
  }

  /**
   * The HotSpot thread names of the collectors (G1, Parallel, Serial, ZGC, Shenandoah) and of the
   * VM itself, as {@code comm} shows them (truncated to 15 characters).
   */
  private static final List<String> GC_VM_PREFIXES =
      List.of(
          "GC Thread",
          "G1 ",
          "GC ",
          "ZGC",
          "ZDirector",
          "ZStat",
          "ZUnmapper",
          "ZDriver",
          "Shenandoah",
          "VM Thread",
          "VM Periodic",
          "Sweeper thread",
          "Service Thread",
          "Monitor Deflati",
          "Signal Dispatch",
          "Reference Handl",
          "Finalizer",
          "Common-Cleaner",
          "Notification Th",
          "Attach Listener");

  static Kind classify(String comm) {
    String name = comm.strip();
    if (name.startsWith("C1 CompilerThre")
        || name.startsWith("C2 CompilerThre")
        || name.startsWith("C1 CompilerThread")
        || name.startsWith("C2 CompilerThread")) {
      return Kind.JIT;
    }
    // comm keeps 15 characters: "veriruntime-ring-0" reads "veriruntime-rin"
    if (name.startsWith("veriruntime-rin")) {
      return Kind.RING;
    }
    for (String p : GC_VM_PREFIXES) {
      if (name.startsWith(p)) {
        return Kind.GC_VM;
      }
    }
    return Kind.OTHER;
  }

  /**
   * A thread's name without its instance number, so that a pool's threads add up: "parallel-3" →
   * "parallel", "GC Thread#1" → "GC Thread", "reactor-http-ep" stays.
   */
  static String prefix(String comm) {
    String name = comm.strip();
    int end = name.length();
    while (end > 0 && Character.isDigit(name.charAt(end - 1))) {
      end--;
    }
    if (end == name.length()) {
      return name;
    }
    while (end > 0 && "-#_ ".indexOf(name.charAt(end - 1)) >= 0) {
      end--;
    }
    return end == 0 ? name : name.substring(0, end);
  }

  /** One thread at one moment: its name and utime + stime in clock ticks. */
  record ThreadTicks(String name, long ticks) {}

  /**
   * Every live thread of {@code pid}, by thread id. A thread that exits between the listing and the
   * read is left out (its CPU still counts in the process's total).
   */
  static Map<Long, ThreadTicks> sample(long pid) throws IOException {
    Map<Long, ThreadTicks> threads = new HashMap<>();
    Path tasks = Path.of("/proc/" + pid + "/task");
    List<Path> dirs;
    try (Stream<Path> s = Files.list(tasks)) {
      dirs = s.toList();
    }
    for (Path dir : dirs) {
      try {
        String stat = Files.readString(dir.resolve("stat"));
        threads.put(
            Long.parseLong(dir.getFileName().toString()),
            new ThreadTicks(
                stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ticksOf(stat)));
      } catch (NoSuchFileException exited) {
        // gone between the listing and the read
      }
    }
    return threads;
  }

  /** utime + stime of a {@code stat} line ({@code proc(5)}, fields 14 and 15). */
  static long ticksOf(String stat) {
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  /**
   * CPU ticks per thread between two samples: a thread absent from {@code before} started in
   * between and counts whole.
   */
  static Map<Long, ThreadTicks> delta(Map<Long, ThreadTicks> before, Map<Long, ThreadTicks> after) {
    Map<Long, ThreadTicks> d = new HashMap<>();
    for (Map.Entry<Long, ThreadTicks> e : after.entrySet()) {
      ThreadTicks b = before.get(e.getKey());
      long t = e.getValue().ticks() - (b == null ? 0 : b.ticks());
      d.put(e.getKey(), new ThreadTicks(e.getValue().name(), Math.max(0, t)));
    }
    return d;
  }

  /** CPU seconds of the JIT compiler threads between two samples. */
  static double jitSeconds(
      Map<Long, ThreadTicks> before, Map<Long, ThreadTicks> after, long clockTicks) {
    return delta(before, after).values().stream()
            .filter(t -> classify(t.name()) == Kind.JIT)
            .mapToLong(ThreadTicks::ticks)
            .sum()
        / (double) clockTicks;
  }

  /** A group of threads by {@link #prefix}, and its CPU seconds. */
  record Named(String name, double seconds) {}

  /**
   * The agent's CPU over a window, split by {@link Kind}. {@code otherSeconds} is the total less
   * the three named kinds, so that it also holds threads that exited inside the window; {@code
   * biggestOther} names the largest groups of live other threads (at most {@link #NAMED}, each at
   * least one clock tick).
   */
  record CpuSplit(
      double totalSeconds,
      double jitSeconds,
      double gcVmSeconds,
      double ringSeconds,
      double otherSeconds,
      List<Named> biggestOther) {

    static CpuSplit none() {
      return new CpuSplit(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, List.of());
    }

    boolean known() {
      return !Double.isNaN(totalSeconds);
    }
  }

  /** How many groups of other threads a split names. */
  static final int NAMED = 3;

  static CpuSplit split(
      Map<Long, ThreadTicks> before,
      Map<Long, ThreadTicks> after,
      long processTicks,
      long clockTicks) {
    Map<Kind, Long> byKind = new HashMap<>();
    Map<String, Long> others = new LinkedHashMap<>();
    for (ThreadTicks t : delta(before, after).values()) {
      Kind k = classify(t.name());
      byKind.merge(k, t.ticks(), Long::sum);
      if (k == Kind.OTHER && t.ticks() > 0) {
        others.merge(prefix(t.name()), t.ticks(), Long::sum);
      }
    }
    double hz = clockTicks;
    long jit = byKind.getOrDefault(Kind.JIT, 0L);
    long gc = byKind.getOrDefault(Kind.GC_VM, 0L);
    long ring = byKind.getOrDefault(Kind.RING, 0L);
    List<Named> named = new ArrayList<>();
    others.entrySet().stream()
        .sorted(
            Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder())
                .thenComparing(Map.Entry.comparingByKey()))
        .limit(NAMED)
        .forEach(e -> named.add(new Named(e.getKey(), e.getValue() / hz)));
    return new CpuSplit(
        processTicks / hz,
        jit / hz,
        gc / hz,
        ring / hz,
        Math.max(0, processTicks - jit - gc - ring) / hz,
        List.copyOf(named));
  }

  /**
   * The splits of several windows added up (the named other threads merged by name); {@link
   * CpuSplit#none()} when none is known.
   */
  static CpuSplit sum(List<CpuSplit> splits) {
    List<CpuSplit> known = splits.stream().filter(CpuSplit::known).toList();
    if (known.isEmpty()) {
      return CpuSplit.none();
    }
    Map<String, Double> others = new LinkedHashMap<>();
    known.forEach(
        s -> s.biggestOther().forEach(n -> others.merge(n.name(), n.seconds(), Double::sum)));
    return new CpuSplit(
        known.stream().mapToDouble(CpuSplit::totalSeconds).sum(),
        known.stream().mapToDouble(CpuSplit::jitSeconds).sum(),
        known.stream().mapToDouble(CpuSplit::gcVmSeconds).sum(),
        known.stream().mapToDouble(CpuSplit::ringSeconds).sum(),
        known.stream().mapToDouble(CpuSplit::otherSeconds).sum(),
        others.entrySet().stream()
            .sorted(
                Map.Entry.<String, Double>comparingByValue(Comparator.reverseOrder())
                    .thenComparing(Map.Entry.comparingByKey()))
            .limit(NAMED)
            .map(e -> new Named(e.getKey(), e.getValue()))
            .toList());
  }

  /** What the warm-up does after a slice. */
  enum WarmupStep {
    /** Another slice: the minimum is not reached, or the JIT still compiles and the cap is not. */
    CONTINUE,
    /** The JIT used less than the threshold in the last slice, after the minimum. */
    SETTLED,
    /** The cap is reached and the JIT had not settled. */
    CAPPED
  }

  /**
   * The warm-up rule: storm at least {@code minSeconds}; after that, stop as soon as the JIT
   * compiler threads used less than {@code thresholdPercent} of one core over the last slice, or
   * once {@code maxSeconds} have passed.
   *
   * @param elapsedSeconds warm-up storm so far, slices summed
   * @param lastSliceJitPercent the JIT threads' CPU over the last slice, % of one core
   */
  static WarmupStep warmupStep(
      double elapsedSeconds,
      double lastSliceJitPercent,
      double minSeconds,
      double maxSeconds,
      double thresholdPercent) {
    if (elapsedSeconds < minSeconds) {
      return WarmupStep.CONTINUE;
    }
    if (lastSliceJitPercent < thresholdPercent) {
      return WarmupStep.SETTLED;
    }
    return elapsedSeconds >= maxSeconds ? WarmupStep.CAPPED : WarmupStep.CONTINUE;
  }

  /**
   * The next slice's length: {@code slice}, trimmed so that the warm-up ends exactly at the minimum
   * (for the first check) and never passes the cap.
   */
  static double nextSlice(
      double elapsedSeconds, double slice, double minSeconds, double maxSeconds) {
    double limit = elapsedSeconds < minSeconds ? minSeconds : Math.max(minSeconds, maxSeconds);
    return Math.min(slice, limit - elapsedSeconds);
  }
}
