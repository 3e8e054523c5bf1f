package dev.veriruntime.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ExecStormTest {
  @Test
  void readsThe16KiBColumnOfOpensslSpeed() {
    String output =
        """
        Doing sha256 for 3s on 16 size blocks: 1 sha256's in 3.00s
        version: 3.0.22
        The 'numbers' are in 1000s of bytes per second processed.
        type             16 bytes     64 bytes    256 bytes   1024 bytes   8192 bytes  16384 bytes
        sha256           85697.09k   311500.22k   718871.77k  1154203.83k  1478288.20k  1506235.73k
        """;
    assertThat(ExecStorm.opensslSpeed16k(output))
        .isEqualTo(1_506_235_730.0, org.assertj.core.api.Assertions.within(1.0));
  }

  @Test
  void refusesOutputWithoutTheColumn() {
    assertThatThrownBy(() -> ExecStorm.opensslSpeed16k("sha256 1.0k\n"))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void readsThisProcessFromProc() throws Exception {
    long pid = ProcessHandle.current().pid();
    assertThat(ExecStorm.cpuTicks(pid)).isPositive();
    assertThat(ExecStorm.peakRssKiB(pid)).isGreaterThan(1024);
  }

  @Test
  void defaultsAreBothConfigurationsAtMaxAndAnOptionReplacesThem() {
    ExecStorm defaults = new ExecStorm();
    new CommandLine(defaults).parseArgs();
    assertThat(defaults.agentConfigs).containsExactly("--no-journal --no-scan --no-api", "default");
    assertThat(defaults.rates).containsExactly("max", "1000");
    // a fixed rate is measured over a longer window than max, so one late JIT compile weighs less
    assertThat(defaults.windowSeconds(RatePlan.MAX)).isEqualTo(10);
    assertThat(defaults.windowSeconds(1000)).isEqualTo(20);
    assertThat(defaults.agentWarmupMax).isEqualTo(240);
    assertThat(defaults.agentWarmupJitPercent).isEqualTo(1.0);

    ExecStorm given = new ExecStorm();
    new CommandLine(given)
        .parseArgs("--agent-args", "default", "--rate", "500,1000", "--rate", "max");
    assertThat(given.agentConfigs).containsExactly("default");
    assertThat(given.rates).containsExactly("500", "1000", "max");
  }

  @Test
  void rateSecondsZeroMeansSecondsAndAWarmUpCapBelowItsMinimumIsAUsageError() {
    ExecStorm same = new ExecStorm();
    new CommandLine(same).parseArgs("--seconds", "5", "--rate-seconds", "0");
    assertThat(same.windowSeconds(1000)).isEqualTo(5);
    int exit =
        new CommandLine(new ExecStorm())
            .setErr(new java.io.PrintWriter(new java.io.StringWriter()))
            .execute("--agent-warmup", "60", "--agent-warmup-max", "30");
    assertThat(exit).isEqualTo(2);
  }

  @Test
  void aBadRateIsAUsageError() {
    int exit =
        new CommandLine(new ExecStorm())
            .setErr(new java.io.PrintWriter(new java.io.StringWriter()))
            .execute("--rate", "fast");
    assertThat(exit).isEqualTo(2);
  }

  @Test
  void thePeerIsNamedByItsProgramNotItsWrapper() {
    assertThat(ExecStorm.peerName("stdbuf -oL -eL fapolicyd --permissive --debug-deny"))
        .isEqualTo("fapolicyd");
    assertThat(ExecStorm.peerName("/usr/sbin/fapolicyd --debug")).isEqualTo("fapolicyd");
    assertThat(ExecStorm.peerName(null)).isEmpty();
  }

  @Test
  void medianOfPairs() {
    assertThat(ExecStorm.Summary.median(List.of(3.0, 1.0, 2.0))).isEqualTo(2.0);
    assertThat(ExecStorm.Summary.median(List.of(4.0, 1.0))).isEqualTo(2.5);
    assertThat(ExecStorm.Summary.median(List.of())).isNaN();
  }
}
