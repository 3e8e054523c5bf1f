package dev.veriruntime.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.benchmarks.ExecStorm.AgentRound;
import dev.veriruntime.benchmarks.ExecStorm.LevelSummary;
import dev.veriruntime.benchmarks.ExecStorm.PeerRound;
import dev.veriruntime.benchmarks.ExecStorm.Round;
import dev.veriruntime.benchmarks.ExecStorm.Sha;
import dev.veriruntime.benchmarks.ExecStorm.Summary;
import dev.veriruntime.benchmarks.LatencyHistogram.Bucket;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExecStormReportTest {
  static final Sha SHA = new Sha(1.50, 1.47, 1.35, 256, 0.98, 0.90);

  static AgentRound agent(
      double cpuPer1k, long seen, long lostExec, double p99Ms, double calmP99Ms) {
    LatencyHistogram storm =
        new LatencyHistogram(List.of(new Bucket(0.0005, 50), new Bucket(0.002, 100)), 100);
    LatencyHistogram calm =
        new LatencyHistogram(List.of(new Bucket(0.0001, 0), new Bucket(0.0005, 10)), 10);
    return new AgentRound(
        cpuPer1k * 10,
        cpuPer1k,
        200 * 1024,
        seen,
        lostExec,
        lostExec,
        0,
        lostExec,
        0,
        100,
        0.4,
        p99Ms,
        p99Ms,
        p99Ms,
        99,
        1,
        10,
        0.2,
        calmP99Ms,
        calmP99Ms,
        storm,
        calm,
        cpuPer1k * 2);
  }

  static Round off(int index, String config, double rate, long execs, ExecOracle.Counts oracle) {
    return new Round(
        index,
        config,
        rate,
        false,
        execs,
        0,
        0,
        rate == RatePlan.MAX ? 0 : execs,
        10,
        execs / 10.0,
        null,
        null,
        oracle);
  }

  static Round on(
      int index, String config, double rate, long execs, AgentRound a, ExecOracle.Counts oracle) {
    return new Round(
        index,
        config,
        rate,
        true,
        execs,
        0,
        rate == RatePlan.MAX ? 0 : 3,
        rate == RatePlan.MAX ? 0 : execs,
        10,
        execs / 10.0,
        a,
        null,
        oracle);
  }

  /** Two configurations: lean at max (two pairs) and at 500/s; defaults at max. */
  static List<Round> rounds() {
    List<Round> r = new ArrayList<>();
    r.add(off(1, ExecStorm.LEAN, RatePlan.MAX, 10_000, new ExecOracle.Counts(10_050, 10_000)));
    r.add(
        on(
            2,
            ExecStorm.LEAN,
            RatePlan.MAX,
            9_800,
            agent(0.2, 9_850, 0, 3.0, 0.4),
            new ExecOracle.Counts(9_860, 9_800)));
    r.add(off(3, ExecStorm.LEAN, RatePlan.MAX, 10_000, null));
    r.add(
        on(
            4,
            ExecStorm.LEAN,
            RatePlan.MAX,
            9_600,
            agent(0.25, 9_650, 0, 4.0, 0.6),
            new ExecOracle.Counts(9_700, 9_600)));
    r.add(off(5, ExecStorm.LEAN, 500, 5_000, null));
    r.add(
        on(
            6,
            ExecStorm.LEAN,
            500,
            5_000,
            agent(0.4, 5_010, 0, 0.8, 0.3),
            new ExecOracle.Counts(5_020, 5_000)));
    r.add(off(7, ExecStorm.DEFAULTS, RatePlan.MAX, 10_000, null));
    r.add(
        on(
            8,
            ExecStorm.DEFAULTS,
            RatePlan.MAX,
            9_000,
            agent(0.3, 9_050, 20, 5.0, 2.0),
            new ExecOracle.Counts(9_100, 9_000)));
    return r;
  }

  /** What {@code ExecStorm.machine()} gives, with fixed values. */
  static Map<String, Object> machine(String loadavgStart, String loadavgEnd) {
    Map<String, Object> machine = new LinkedHashMap<>();
    machine.put("nproc", 2);
    machine.put("model", "AMD EPYC");
    machine.put("kernel", "6.1.0");
    machine.put("java", "OpenJDK 17");
    machine.put("loadavgStart", loadavgStart);
    machine.put("loadavgEnd", loadavgEnd);
    return machine;
  }

  static ExecStormReport.Run run(List<Round> rounds, List<Round> peerRounds) {
    Map<String, Object> machine = machine("0.50 0.40 0.30", "1.50 0.90 0.50");
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("seconds", 10.0);
    settings.put("pairs", 2);
    settings.put("binaries", 8);
    settings.put("workersPerBinary", 1);
    settings.put("settleSeconds", 2.0);
    settings.put("calmExecs", 500);
    settings.put("levels", List.of("max", "500/s"));
    settings.put("oracle", "bpftrace");
    List<Summary> summaries =
        List.of(
            Summary.of(
                ExecStorm.LEAN,
                rounds.stream().filter(r -> r.config().equals(ExecStorm.LEAN)).toList(),
                SHA),
            Summary.of(
                ExecStorm.DEFAULTS,
                rounds.stream().filter(r -> r.config().equals(ExecStorm.DEFAULTS)).toList(),
                SHA));
    List<LevelSummary> levels = new ArrayList<>(LevelSummary.of(rounds));
    levels.addAll(LevelSummary.of(peerRounds));
    return new ExecStormReport.Run(
        Instant.parse("2026-11-23T09:00:00Z"),
        "benchmarks/exec-storm.sh --rate max,500",
        machine,
        settings,
        rounds,
        peerRounds,
        SHA,
        summaries,
        levels,
        List.of("latency-cdf.png", "throughput-ratio.png"));
  }

  @Test
  void summaryTakesThroughputFromMaxAndCpuFromTheWorstLevel() {
    Summary lean = Summary.of(ExecStorm.LEAN, rounds().subList(0, 6), SHA);
    assertThat(lean.throughputLevel()).isEqualTo("max");
    assertThat(lean.throughputRatios()).containsExactly(0.98, 0.96);
    assertThat(lean.throughputRatioMedian())
        .isEqualTo(0.97, org.assertj.core.api.Assertions.within(1e-9));
    assertThat(lean.cpuLevel()).isEqualTo("500/s");
    assertThat(lean.cpuPercentPer1000ExecsPerSecond())
        .isEqualTo(40.0, org.assertj.core.api.Assertions.within(1e-9));
    assertThat(lean.p99MsWorst()).isEqualTo(4.0);
    assertThat(lean.calmP99MsWorst()).isEqualTo(0.6);
    // bpftrace saw 9860 + 9700 + 5020 execs on the host; the agent 9850 + 9650 + 5010, none
    // reported lost
    assertThat(lean.oracleAllExecsOn()).isEqualTo(24_580);
    assertThat(lean.unaccountedVsOracle()).isEqualTo(10 + 50 + 10);
    assertThat(lean.oracleStormMismatch()).isZero();
  }

  @Test
  void anOracleThatMissedStormExecsIsNotTakenForNoLoss() {
    List<Round> r =
        List.of(
            off(1, ExecStorm.LEAN, RatePlan.MAX, 100, null),
            on(
                2,
                ExecStorm.LEAN,
                RatePlan.MAX,
                100,
                agent(0.2, 100, 0, 1, 1),
                new ExecOracle.Counts(0, 0)));
    Summary s = Summary.of(ExecStorm.LEAN, r, SHA);
    assertThat(s.oracleStormMismatch()).isEqualTo(100);
    assertThat(ExecStormReport.targetsTable(List.of(s), SHA))
        .contains("| oracle inconsistent: bpftrace counted 0 storm execs, the drivers 100 |");
  }

  @Test
  void summaryWithoutTheOracleSaysSo() {
    List<Round> r =
        List.of(
            off(1, ExecStorm.LEAN, RatePlan.MAX, 100, null),
            on(2, ExecStorm.LEAN, RatePlan.MAX, 100, agent(0.2, 100, 0, 1, 1), null));
    Summary s = Summary.of(ExecStorm.LEAN, r, SHA);
    assertThat(s.unaccountedVsOracle()).isEqualTo(-1);
    assertThat(ExecStormReport.targetsTable(List.of(s), SHA)).contains("| no oracle |");
  }

  @Test
  void levelSummaryGroupsPairsByConfigurationAndLoad() {
    List<LevelSummary> levels = LevelSummary.of(rounds());
    assertThat(levels)
        .extracting(
            l -> ExecStormReport.configLabel(l.config()) + "@" + RatePlan.label(l.targetRate()))
        .containsExactly(
            "--no-journal --no-scan@max", "--no-journal --no-scan@500/s", "defaults@max");
    LevelSummary fixed = levels.get(1);
    assertThat(fixed.throughputRatios()).containsExactly(1.0);
    assertThat(fixed.late()).isEqualTo(3);
    assertThat(fixed.due()).isEqualTo(5_000);
    assertThat(fixed.cpuPercentOfCoreMedian())
        .isEqualTo(100 * 4.0 / 10, org.assertj.core.api.Assertions.within(1e-9));
  }

  @Test
  void targetsTableHasOneColumnPerConfigurationAndSaysWhatIsNotMet() {
    String table = ExecStormReport.targetsTable(run(rounds(), List.of()).summaries(), SHA);
    String header = table.lines().findFirst().orElseThrow();
    assertThat(header).isEqualTo("| measure | target | `--no-journal --no-scan` | `defaults` |");
    String throughput =
        table
            .lines()
            .filter(l -> l.startsWith("| exec/s agent on ÷ off"))
            .findFirst()
            .orElseThrow();
    assertThat(throughput)
        .contains("0.970 at max (0.980, 0.960) (met)")
        .contains("0.900 at max (0.900) (**not met**)");
    String loss =
        table.lines().filter(l -> l.startsWith("| exec events lost")).findFirst().orElseThrow();
    assertThat(loss).contains("20 of 9000 (0.22 %; all kinds 20)");
  }

  @Test
  void markdownHasEverySectionAndTheCountsOfTheOracle() {
    String md = ExecStormReport.markdown(run(rounds(), List.of()));
    assertThat(md)
        .contains(
            "## By configuration and load",
            "## Against the targets of issue 8",
            "## Exec counts: drivers, bpftrace, agent",
            "## Rounds",
            "![latency-cdf](latency-cdf.png)",
            "| 2 | --no-journal --no-scan | max | on | 9800 | 9800 | 9860 | 9850 | 0 |",
            "| 3 | --no-journal --no-scan | max | off | 10000 |  |  |  |  |",
            "| 6 | --no-journal --no-scan | 500/s | on | 5000 | 0 | 3 | 500 |");
    assertThat(md).doesNotContain("## Peer");
  }

  @Test
  void peerSectionComparesAtTheSameLoad() {
    List<Round> peer =
        List.of(
            off(9, "peer", RatePlan.MAX, 10_000, null),
            new Round(
                10,
                "peer",
                RatePlan.MAX,
                false,
                6_000,
                0,
                0,
                0,
                10,
                600,
                null,
                new PeerRound("fapolicyd", 3, 0.5, 20 * 1024),
                null));
    String md = ExecStormReport.markdown(run(rounds(), peer));
    assertThat(md)
        .contains(
            "## Peer: `fapolicyd`, same storm",
            "At max: peer exec/s on ÷ off (median of pairs; pairs: 0.600) 0.600; peer CPU, % of one core per 1,000 exec/s "
                + "(median) 50.00 %. VeriRuntime at the same load (ratio, CPU): `--no-journal --no-scan` 0.970, 22.50 %; "
                + "`defaults` 0.900, 30.00 %.");
  }

  @Test
  void readmeSectionReplacesOnlyTheTextBetweenTheMarkers() {
    String readme =
        "# X\n\nintro\n"
            + ExecStormReport.README_BEGIN
            + "\nold table\n"
            + ExecStormReport.README_END
            + "\nafter\n";
    String section = ExecStormReport.readmeSection(run(rounds(), List.of()), "benchmarks/results");
    String updated = ExecStormReport.replaceReadmeSection(readme, section).orElseThrow();
    assertThat(updated)
        .startsWith(
            "# X\n\nintro\n"
                + ExecStormReport.README_BEGIN
                + "\nLatest exec-storm run: 2026-11-23 on 2 × AMD EPYC")
        .endsWith(ExecStormReport.README_END + "\nafter\n")
        .contains(
            "```sh\nbenchmarks/exec-storm.sh --rate max,500\n```",
            "[latency-cdf.png](benchmarks/results/latency-cdf.png)")
        .doesNotContain("old table");
    assertThat(ExecStormReport.replaceReadmeSection("no markers", section)).isEmpty();
    assertThat(
            ExecStormReport.replaceReadmeSection(
                ExecStormReport.README_END + ExecStormReport.README_BEGIN, section))
        .isEmpty();
  }

  @Test
  void configurationsAreShownByTheirArguments() {
    assertThat(ExecStormReport.configLabel("default")).isEqualTo("defaults");
    assertThat(ExecStormReport.configLabel("  ")).isEqualTo("defaults");
    assertThat(ExecStormReport.configLabel(" --no-journal   --no-scan "))
        .isEqualTo("--no-journal --no-scan");
    assertThat(ExecStorm.agentArguments("--no-journal  --no-scan"))
        .containsExactly("--no-journal", "--no-scan");
  }
}
