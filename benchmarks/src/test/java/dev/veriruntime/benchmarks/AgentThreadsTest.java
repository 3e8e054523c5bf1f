package dev.veriruntime.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.veriruntime.benchmarks.AgentThreads.CpuSplit;
import dev.veriruntime.benchmarks.AgentThreads.Kind;
import dev.veriruntime.benchmarks.AgentThreads.Named;
import dev.veriruntime.benchmarks.AgentThreads.ThreadTicks;
import dev.veriruntime.benchmarks.AgentThreads.WarmupStep;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AgentThreadsTest {
  @Test
  void threadsAreSortedByWhatTheirNameSaysTheyDo() {
    assertThat(AgentThreads.classify("C2 CompilerThre")).isEqualTo(Kind.JIT);
    assertThat(AgentThreads.classify("C1 CompilerThre")).isEqualTo(Kind.JIT);
    assertThat(AgentThreads.classify("veriruntime-rin")).isEqualTo(Kind.RING);
    assertThat(AgentThreads.classify("veriruntime-ring-0")).isEqualTo(Kind.RING);
    for (String vm :
        List.of(
            "GC Thread#0",
            "G1 Conc#0",
            "G1 Refine#0",
            "G1 Main Marker",
            "G1 Service",
            "VM Thread",
            "VM Periodic Tas",
            "Service Thread",
            "Monitor Deflati",
            "Reference Handl",
            "Finalizer",
            "Common-Cleaner")) {
      assertThat(AgentThreads.classify(vm)).as(vm).isEqualTo(Kind.GC_VM);
    }
    for (String other : List.of("veriruntime-tim", "parallel-1", "java", "reactor-http-ep")) {
      assertThat(AgentThreads.classify(other)).as(other).isEqualTo(Kind.OTHER);
    }
  }

  @Test
  void aPoolsThreadsShareOnePrefix() {
    assertThat(AgentThreads.prefix("parallel-12")).isEqualTo("parallel");
    assertThat(AgentThreads.prefix("GC Thread#1")).isEqualTo("GC Thread");
    assertThat(AgentThreads.prefix("veriruntime-tim")).isEqualTo("veriruntime-tim");
    assertThat(AgentThreads.prefix("42")).isEqualTo("42");
  }

  @Test
  void theSplitAddsUpToTheProcessAndNamesTheBiggestOtherThreads() {
    Map<Long, ThreadTicks> before =
        Map.of(
            1L, new ThreadTicks("java", 50),
            10L, new ThreadTicks("C2 CompilerThre", 1000),
            11L, new ThreadTicks("C1 CompilerThre", 200),
            20L, new ThreadTicks("GC Thread#0", 30),
            30L, new ThreadTicks("veriruntime-rin", 400),
            40L, new ThreadTicks("veriruntime-tim", 10),
            41L, new ThreadTicks("parallel-1", 5),
            42L, new ThreadTicks("parallel-2", 5));
    Map<Long, ThreadTicks> after =
        Map.of(
            1L, new ThreadTicks("java", 50),
            10L, new ThreadTicks("C2 CompilerThre", 1140),
            11L, new ThreadTicks("C1 CompilerThre", 210),
            20L, new ThreadTicks("GC Thread#0", 38),
            30L, new ThreadTicks("veriruntime-rin", 450),
            40L, new ThreadTicks("veriruntime-tim", 22),
            41L, new ThreadTicks("parallel-1", 8),
            42L, new ThreadTicks("parallel-2", 9),
            // started inside the window: counts whole
            43L, new ThreadTicks("G1 Conc#0", 2));
    // 150 JIT + 10 GC/VM + 50 ring + 19 live others + 21 of a thread that exited = 250
    CpuSplit s = AgentThreads.split(before, after, 250, 100);
    assertThat(s.totalSeconds()).isEqualTo(2.5);
    assertThat(s.jitSeconds()).isCloseTo(1.5, within(1e-9));
    assertThat(s.gcVmSeconds()).isCloseTo(0.10, within(1e-9));
    assertThat(s.ringSeconds()).isCloseTo(0.5, within(1e-9));
    assertThat(s.otherSeconds()).isCloseTo(0.40, within(1e-9));
    assertThat(s.biggestOther())
        .containsExactly(new Named("veriruntime-tim", 0.12), new Named("parallel", 0.07));
    assertThat(AgentThreads.jitSeconds(before, after, 100)).isCloseTo(1.5, within(1e-9));
  }

  @Test
  void theWarmUpRunsItsMinimumThenStopsOnceTheJitIsQuietOrAtTheCap() {
    // synthetic JIT % per 10-s slice: busy at start, settling after 90 s
    double[] jit = {45, 30, 20, 12, 8, 5, 3, 2, 0.4, 0.2, 0.1};
    assertThat(run(jit, 60, 240, 1.0)).isEqualTo(new Outcome(90, WarmupStep.SETTLED));
    // a quiet slice before the minimum does not end the warm-up
    assertThat(run(new double[] {0.5, 0.5, 0.5, 0.5}, 30, 240, 1.0))
        .isEqualTo(new Outcome(30, WarmupStep.SETTLED));
    // never settles: ends at the cap, which a trimmed last slice reaches exactly
    double[] busy = new double[40];
    java.util.Arrays.fill(busy, 3);
    assertThat(run(busy, 60, 95, 1.0)).isEqualTo(new Outcome(95, WarmupStep.CAPPED));
    // a late compile burst in the last slice keeps it going
    assertThat(AgentThreads.warmupStep(120, 4.5, 60, 240, 1.0)) // one 450 ms compile in 10 s
        .isEqualTo(WarmupStep.CONTINUE);
    assertThat(AgentThreads.warmupStep(120, 0.99, 60, 240, 1.0)).isEqualTo(WarmupStep.SETTLED);
    assertThat(AgentThreads.warmupStep(60, Double.NaN, 60, 60, 1.0)).isEqualTo(WarmupStep.CAPPED);
  }

  @Test
  void slicesAreTrimmedToTheMinimumAndTheCap() {
    assertThat(AgentThreads.nextSlice(0, 10, 25, 240)).isEqualTo(10);
    assertThat(AgentThreads.nextSlice(20, 10, 25, 240)).isEqualTo(5);
    assertThat(AgentThreads.nextSlice(25, 10, 25, 240)).isEqualTo(10);
    assertThat(AgentThreads.nextSlice(235, 10, 25, 240)).isEqualTo(5);
  }

  @Test
  void readsThisJvmsThreadsFromProc() throws Exception {
    Map<Long, ThreadTicks> threads = AgentThreads.sample(ProcessHandle.current().pid());
    assertThat(threads.values()).extracting(ThreadTicks::name).contains("VM Thread");
    assertThat(threads.values().stream().mapToLong(ThreadTicks::ticks).sum())
        .isLessThanOrEqualTo(ExecStorm.cpuTicks(ProcessHandle.current().pid()));
  }

  private record Outcome(double seconds, WarmupStep step) {}

  /** Drives the rule over synthetic per-slice JIT percentages, as the harness does. */
  private static Outcome run(double[] jitPerSlice, double min, double max, double threshold) {
    double elapsed = 0;
    List<Double> slices = new ArrayList<>();
    for (double jit : jitPerSlice) {
      double slice = AgentThreads.nextSlice(elapsed, 10, min, max);
      slices.add(slice);
      elapsed += slice;
      WarmupStep step = AgentThreads.warmupStep(elapsed, jit, min, max, threshold);
      if (step != WarmupStep.CONTINUE) {
        return new Outcome(elapsed, step);
      }
    }
    throw new AssertionError("no decision after " + slices);
  }
}
