package dev.veriruntime.verifier.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.Coverage;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.Verdict;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RuntimeStateRegistryTest {
  private static final Instant T0 = Instant.parse("2026-11-23T08:00:00Z");

  private static ProcessVerification v(int pid, long ticks, Instant at, Verdict verdict) {
    Coverage c =
        Coverage.of(
            verdict == Verdict.FAILED
                ? ScopeResult.failed(Scope.MEMORY_CODE, "patched")
                : ScopeResult.verified(Scope.MEMORY_CODE));
    return new ProcessVerification(
        pid,
        ticks,
        verdict,
        new ProcessVerification.Executable("/bin/x", null, null),
        c,
        List.of(),
        at,
        0,
        true);
  }

  @Test
  void keepsTheNewestResultPerProcessAndReplacesRecycledPids() {
    RuntimeStateRegistry r = new RuntimeStateRegistry();
    r.record(v(7, 100, T0.plusSeconds(10), Verdict.FAILED));
    r.record(v(7, 100, T0, Verdict.VERIFIED)); // late, older result: ignored
    assertThat(r.get(7)).get().extracting(ProcessVerification::verdict).isEqualTo(Verdict.FAILED);

    r.record(v(7, 200, T0, Verdict.VERIFIED)); // same pid, another process
    assertThat(r.get(7)).get().extracting(ProcessVerification::startTicks).isEqualTo(200L);

    r.record(v(3, 1, T0, Verdict.VERIFIED));
    r.record(v(5, 1, T0, Verdict.VERIFIED));
    assertThat(r.snapshot()).extracting(ProcessVerification::pid).containsExactly(3, 5, 7);
    assertThat(r.retainOnly(List.of(3, 7))).isEqualTo(1);
    r.forget(3);
    assertThat(r.snapshot()).extracting(ProcessVerification::pid).containsExactly(7);
  }

  @Test
  void concurrentRecordsAndSnapshotsAreSafe() throws Exception {
    RuntimeStateRegistry r = new RuntimeStateRegistry();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    for (int t = 0; t < 4; t++) {
      int thread = t;
      pool.submit(
          () -> {
            for (int i = 0; i < 2000; i++) {
              r.record(v(i % 100, 1, T0.plusMillis(i * 4L + thread), Verdict.VERIFIED));
              r.snapshot();
            }
          });
    }
    pool.shutdown();
    assertThat(pool.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
    assertThat(r.size()).isEqualTo(100);
    // The newest write for pid 99 came from i = 1999, thread 3.
    assertThat(r.get(99))
        .get()
        .extracting(ProcessVerification::checkedAt)
        .isEqualTo(T0.plusMillis(1999 * 4L + 3));
  }
}
