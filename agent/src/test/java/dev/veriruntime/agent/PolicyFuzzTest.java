package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.veriruntime.verifier.testing.InputBudget;
import java.io.IOException;
import java.util.List;

/**
 * Jazzer target for the policy file ({@link Policy#load}): YAML (or JSON) written by an operator, a
 * configuration-management tool or, on a compromised host, an attacker. Any bytes must give a
 * policy the daemon can start with, or the declared {@link IOException} saying what is wrong: never
 * another exception, and never a policy with a missing section, a null entry or a number the daemon
 * cannot use (a queue of -1, a zero interval), which would stop the daemon later with a stack trace
 * instead of a clear message now. Bounded per input by {@link InputBudget} (YAML aliases are the
 * classic blow-up).
 *
 * <p>Seeds in {@code PolicyFuzzTestInputs/}: the embedded default, the examples of
 * docs/operations.md, a JSON policy, and every crash found.
 */
class PolicyFuzzTest {
  static {
    // Load Jackson and SnakeYAML outside any input's budget: class loading (and, when fuzzing,
    // Jazzer's instrumentation of it) is not the cost of an input.
    try {
      Policy.parse("references: []".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @FuzzTest(maxDuration = "5m")
  void loadPolicy(byte[] input) {
    InputBudget.of(input.length).run(() -> check(input));
  }

  private static void check(byte[] input) {
    Policy p;
    try {
      p = Policy.parse(input);
    } catch (IOException declared) {
      assertThat(declared.getMessage()).isNotBlank();
      return;
    }
    assertThat(p).isNotNull();
    noNulls(p.references);
    noNulls(p.trustedKeys);
    assertThat(p.packageDatabaseDir).isNotNull();
    noNulls(List.copyOf(p.execScopes));
    noNulls(p.jitAllowance);
    noNulls(p.jitRuntimePackages);
    assertThat(p.verification.queue).isPositive();
    assertThat(p.verification.cacheEntries).isPositive();
    assertThat(p.verification.largeFileBytes).isNotNegative();
    assertThat(p.verification.inlineMaxBytes).isNotNegative();
    assertThat(p.verification.inlineMillisPerSecond).isBetween(0L, 1000L);
    assertThat(p.reattestation.bytesPerSecond).isPositive();
    assertThat(p.reattestation.intervalSeconds).isPositive();
    assertThat(p.aggregation.windowSeconds).isPositive();
    assertThat(p.aggregation.maxKeys).isPositive();
    assertThat(p.aggregation.dropReportSeconds).isPositive();
    assertThat(p.incidents.groupMillis).isNotNegative();
    noNulls(p.incidents.reminderSeconds);
    assertThat(p.incidents.reminderSeconds).isNotEmpty().allMatch(s -> s > 0);
    for (Policy.Output o : List.of(p.sinks.console, p.sinks.journal)) {
      assertThat(o.rate).isPositive().isFinite();
      assertThat(o.burst).isPositive();
    }
    assertThat(p.sinks.webhook).isNotNull();
    assertThat(p.sinks.webhookFormat).isNotNull();
    assertThat(p.sinks.slack).isNotNull();
    assertThat(p.sinks.syslog).isNotNull();
    assertThat(p.sinks.metricsPort).isBetween(0, 65_535);
    assertThat(p.sinks.webhookRate).isPositive().isFinite();
    assertThat(p.sinks.syslogRate).isPositive().isFinite();
    noNulls(p.lineage.roots);
    noNulls(p.lineage.toolchain);
    // What the daemon derives from the policy at start must not throw either.
    p.incidents.settings(p.aggregation.maxKeys, 1);
  }

  private static void noNulls(List<?> list) {
    assertThat(list).isNotNull().doesNotContainNull();
  }
}
