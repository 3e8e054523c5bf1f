package dev.veriruntime.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

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
    return agent(cpuPer1k, seen, 0, 100, lostExec, p99Ms, calmP99Ms, 2.0);
  }

  /**
   * An agent-on round: {@code filtered} of the {@code seen} exec events counted in the kernel,
   * {@code verdicts} storm verdicts (NaN storm percentiles without any), calm p50 = 0.04 ms (a calm
   * p99 over 1 ms with one young collection of 2 ms in the calm execs), 100 new binaries (a new
   * binary p99 over 3 ms with one young collection of 4 ms among them).
   */
  static AgentRound agent(
      double cpuPer1k,
      long seen,
      long filtered,
      long verdicts,
      long lostExec,
      double p99Ms,
      double calmP99Ms,
      double newP99Ms) {
    LatencyHistogram storm =
        verdicts == 0
            ? LatencyHistogram.empty()
            : new LatencyHistogram(
                List.of(new Bucket(0.0005, verdicts / 2), new Bucket(0.002, verdicts)), verdicts);
    LatencyHistogram calm =
        new LatencyHistogram(List.of(new Bucket(0.0001, 0), new Bucket(0.0005, 10)), 10);
    LatencyHistogram fresh =
        new LatencyHistogram(List.of(new Bucket(0.001, 50), new Bucket(0.004, 101)), 101);
    double stormMs = verdicts == 0 ? Double.NaN : p99Ms;
    return new AgentRound(
        cpuPer1k * 10,
        cpuPer1k,
        200 * 1024,
        seen,
        filtered,
        lostExec,
        lostExec,
        0,
        lostExec,
        0,
        verdicts,
        verdicts == 0 ? Double.NaN : 0.4,
        stormMs,
        stormMs,
        99,
        1,
        10,
        500,
        500,
        0.04,
        calmP99Ms,
        calmP99Ms,
        calmP99Ms > 1 ? 1 : 0,
        calmP99Ms > 1 ? 2.0 : 0,
        100,
        101,
        100,
        1.0,
        newP99Ms,
        newP99Ms,
        newP99Ms > 3 ? 1 : 0,
        newP99Ms > 3 ? 4.0 : 0,
        storm,
        calm,
        fresh,
        cpuPer1k * 2,
        new ExecStorm.Warmup(90, 90_000, 9, true, 0.4, cpuPer1k * 2),
        new AgentThreads.CpuSplit(
            cpuPer1k * 10,
            cpuPer1k * 4,
            cpuPer1k * 0.5,
            cpuPer1k * 3,
            cpuPer1k * 2.5,
            List.of(new AgentThreads.Named("veriruntime-tim", cpuPer1k))));
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
        oracle,
        Double.NaN);
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
        oracle,
        Double.NaN);
  }

  /** {@code on} with another agent side and off storm right after it. */
  static Round with(Round on, AgentRound a, double offAfterExecsPerSecond) {
    return new Round(
        on.index(),
        on.config(),
        on.targetRate(),
        on.agent(),
        on.execs(),
        on.failed(),
        on.late(),
        on.due(),
        on.seconds(),
        on.execsPerSecond(),
        a,
        on.peerRound(),
        on.oracle(),
        offAfterExecsPerSecond);
  }

  /** Two configurations: lean at max (two pairs) and at 1000/s; defaults at max. */
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
    r.add(off(5, ExecStorm.LEAN, 1000, 10_000, null));
    r.add(
        on(
            6,
            ExecStorm.LEAN,
            1000,
            10_000,
            agent(0.04, 10_010, 0, 0.8, 0.3),
            new ExecOracle.Counts(10_020, 10_000)));
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
    settings.put("rateSeconds", 20.0);
    settings.put("agentWarmupMinSeconds", 60.0);
    settings.put("agentWarmupMaxSeconds", 240.0);
    settings.put("agentWarmupSliceSeconds", 10.0);
    settings.put("agentWarmupJitPercent", 1.0);
    settings.put("pairs", 2);
    settings.put("binaries", 8);
    settings.put("workersPerBinary", 1);
    settings.put("settleSeconds", 2.0);
    settings.put("calmExecs", 500);
    settings.put("newBinaries", 100);
    settings.put("newBinaryKiB", 1024);
    settings.put("newBinaryGapSeconds", 0.02);
    settings.put("levels", List.of("max", "1000/s"));
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
        "benchmarks/exec-storm.sh --rate max,1000",
        machine,
        settings,
        rounds,
        peerRounds,
        SHA,
        summaries,
        levels,
        List.of("latency-cdf.png", "throughput-ratio.png"));
  }

  static Summary summary(String config, List<Round> rounds) {
    return Summary.of(config, rounds.stream().filter(r -> r.config().equals(config)).toList(), SHA);
  }

  static String line(String table, String prefix) {
    return table.lines().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow();
  }

  /** A configuration whose storm binaries are trusted: the kernel counts their execs. */
  static List<Round> trustedRounds(long verdictsInSecondRound) {
    String trusted = ExecStorm.TRUSTED_CHILDREN;
    return List.of(
        off(1, trusted, RatePlan.MAX, 10_000, null),
        on(
            2,
            trusted,
            RatePlan.MAX,
            10_000,
            agent(0.01, 10_020, 10_000, 0, 0, 3.0, 0.5, 2.5),
            new ExecOracle.Counts(10_030, 10_000)),
        off(3, trusted, RatePlan.MAX, 10_000, null),
        on(
            4,
            trusted,
            RatePlan.MAX,
            10_000,
            agent(0.01, 10_020, 9_000, verdictsInSecondRound, 0, 3.0, 0.5, 2.5),
            new ExecOracle.Counts(10_030, 10_000)));
  }

  @Test
  void summaryTakesThroughputAndCpuAtMaxAndCpuAtTheFixedRate() {
    Summary lean = summary(ExecStorm.LEAN, rounds());
    assertThat(lean.throughputRatios()).containsExactly(0.98, 0.96);
    assertThat(lean.throughputRatioMedian()).isEqualTo(0.97, within(1e-9));
    assertThat(lean.cpuPercentAtMax()).isEqualTo(22.5, within(1e-9));
    assertThat(lean.cpuPercentAtFixedRate()).isEqualTo(4.0, within(1e-9));
    // the storm's latency is at max only; calm and new binaries over every on round
    assertThat(lean.stormRoundsAtMax()).isEqualTo(2);
    assertThat(lean.stormP99MsWorst()).isEqualTo(4.0);
    assertThat(lean.calmP50MsWorst()).isEqualTo(0.04);
    assertThat(lean.calmP99MsWorst()).isEqualTo(0.6);
    assertThat(lean.calmLatencyCount()).isEqualTo(1_500);
    assertThat(lean.newBinariesRun()).isEqualTo(300);
    assertThat(lean.newP99MsWorst()).isEqualTo(2.0);
    // bpftrace saw 9860 + 9700 + 10020 execs on the host; the agent 9850 + 9650 + 10010, none
    // reported lost
    assertThat(lean.oracleAllExecsOn()).isEqualTo(29_580);
    assertThat(lean.unaccountedVsOracle()).isEqualTo(10 + 50 + 10);
    assertThat(lean.oracleStormMismatch()).isZero();

    Summary defaults = summary(ExecStorm.DEFAULTS, rounds());
    assertThat(defaults.cpuPercentAtMax()).isEqualTo(30.0, within(1e-9));
    assertThat(defaults.cpuPercentAtFixedRate()).isNaN();
  }

  @Test
  void targetsTableHasIssue17sTargetsOneColumnPerConfiguration() {
    String table = ExecStormReport.targetsTable(run(rounds(), List.of()).summaries(), List.of());
    assertThat(table.lines().findFirst().orElseThrow())
        .isEqualTo("| measure | target | `--no-journal --no-scan --no-api` | `defaults` |");
    assertThat(line(table, "| exec/s agent on ÷ off at max rate"))
        .contains("| ≥ 0.97 |", "0.970 (0.980, 0.960) (met)", "0.900 (0.900) (**not met**)");
    assertThat(line(table, "| exec/s on ÷ off at max rate against the peer"))
        .contains("| above the peer's |", "no peer in this run (--peer)");
    assertThat(line(table, "| agent CPU, % of one core per 1,000 exec/s at max rate"))
        .contains("| ≤ 5.0 % |", "22.50 % (**not met**)", "30.00 % (**not met**)");
    assertThat(line(table, "| agent CPU, % of one core per 1,000 exec/s at a fixed 1000/s"))
        .contains("4.00 % (met)", "not run (--rate 1000)");
    assertThat(line(table, "| exec → verdict, cached identity, calm (sequential"))
        .contains("| ≤ 0.050 ms |", "0.040 ms (met)");
    assertThat(line(table, "| exec → verdict, cached identity, calm: p99"))
        .contains("| p99 ≤ 1.0 ms |", "0.600 / 0.600 ms (1500) (met)", "2.000 / 2.000 ms (500)");
    assertThat(line(table, "| exec → verdict during the max-rate storm"))
        .contains(
            "| p99 ≤ 5.0 ms |", "0.400 / 4.000 / 4.000 ms (met)", "0.400 / 5.000 / 5.000 ms (met)");
    assertThat(line(table, "| exec → verdict, a new binary"))
        .contains("| p99 ≤ 3.0 ms |", "1.000 / 2.000 / 2.000 ms (303 for 300 binaries) (met)");
    assertThat(line(table, "| agent peak RSS")).contains("| ≤ 200 MiB |", "200.0 MiB (met)");
    assertThat(line(table, "| exec events lost")).contains("20 of 9000 (0.22 %; all kinds 20)");
    assertThat(table).doesNotContain("NaN", "SHA-256");
  }

  @Test
  void aMeasureTheRunDidNotTakeSaysHowToTakeIt() {
    List<Round> fixedOnly = new ArrayList<>(rounds().subList(4, 6));
    Summary s = Summary.of(ExecStorm.LEAN, fixedOnly, SHA);
    assertThat(s.throughputRatioMedian()).isNaN();
    String table = ExecStormReport.targetsTable(List.of(s), List.of());
    assertThat(line(table, "| exec/s agent on ÷ off at max rate")).contains("not run (--rate max)");
    assertThat(line(table, "| agent CPU, % of one core per 1,000 exec/s at max rate"))
        .contains("not run (--rate max)");
    assertThat(line(table, "| exec → verdict during the max-rate storm"))
        .contains("not run (--rate max)");
    assertThat(table).doesNotContain("NaN");

    Round on = rounds().get(5);
    AgentRound a = on.agentRound();
    AgentRound noNewBinaries =
        withNew(a, 0, 0, 0, Double.NaN, Double.NaN, Double.NaN, LatencyHistogram.empty());
    Summary without =
        Summary.of(
            ExecStorm.LEAN,
            List.of(rounds().get(4), with(on, noNewBinaries, on.offAfterExecsPerSecond())),
            SHA);
    assertThat(
            line(
                ExecStormReport.targetsTable(List.of(without), List.of()),
                "| exec → verdict, a new binary"))
        .contains("not run (--new-binaries N)");
  }

  @Test
  void aStormCountedInTheKernelHasNoLatencyButTheCalmAndNewBinaryMeasuresStillApply() {
    List<Round> trusted = trustedRounds(0);
    Summary s = Summary.of(ExecStorm.TRUSTED_CHILDREN, trusted, SHA);
    assertThat(s.stormRoundsWithoutVerdicts()).isEqualTo(2);
    assertThat(s.stormP99MsWorst()).isNaN();
    String table = ExecStormReport.targetsTable(List.of(s), List.of());
    assertThat(line(table, "| exec → verdict during the max-rate storm"))
        .contains("n/a: counted in the kernel, no per-exec verdict (19000 of 20040 exec events)")
        .doesNotContain("(met)", "not met");
    assertThat(line(table, "| exec → verdict, cached identity, calm: p99")).contains("0.500");
    assertThat(line(table, "| exec → verdict, a new binary")).contains("2.500");

    ExecStormReport.Run run =
        new ExecStormReport.Run(
            Instant.parse("2026-11-23T09:00:00Z"),
            "benchmarks/exec-storm.sh --agent-args @trusted-children",
            machine("0.50 0.40 0.30", "1.50 0.90 0.50"),
            run(rounds(), List.of()).settings(),
            trusted,
            List.of(),
            SHA,
            List.of(s),
            LevelSummary.of(trusted),
            List.of());
    String md = ExecStormReport.markdown(run);
    assertThat(md).doesNotContain("NaN").contains("n/a: counted in the kernel");
    assertThat(ExecStormReport.readmeSection(run, "benchmarks/results")).doesNotContain("NaN");
  }

  @Test
  void theSettingsSayHowTheCalmExecsWereSpaced() {
    ExecStormReport.Run run = run(rounds(), List.of());
    assertThat(ExecStormReport.markdown(run))
        .as("runs before --calm-gap-ms ran them back to back")
        .contains("500 sequential execs (back to back) of as many distinct binaries");
    run.settings().put("calmGapMs", 20L);
    assertThat(ExecStormReport.markdown(run))
        .contains("500 sequential execs (20 ms apart) of as many distinct binaries");
  }

  @Test
  void aFewVerdictsDuringAKernelCountedStormAreNotTakenForTheStorm() {
    // 50 verdicts (other execs on the host) against 9000 execs counted in the kernel: n/a
    Summary s = Summary.of(ExecStorm.TRUSTED_CHILDREN, trustedRounds(50), SHA);
    assertThat(s.stormRoundsWithoutVerdicts()).isEqualTo(2);
    // 9500 verdicts, more than the 9000 counted in the kernel: that round's storm applies
    Summary mixed = Summary.of(ExecStorm.TRUSTED_CHILDREN, trustedRounds(9_500), SHA);
    assertThat(mixed.stormRoundsWithoutVerdicts()).isEqualTo(1);
    assertThat(ExecStormReport.stormCell(mixed))
        .isEqualTo("0.400 / 3.000 / 3.000 ms (1 of 2 rounds n/a: counted in the kernel) (met)");
  }

  @Test
  void thePeerRowComparesTheRatiosAtMax() {
    List<Round> peer = peerRounds();
    ExecStormReport.Run run = run(rounds(), peer);
    String table = ExecStormReport.targetsTable(run.summaries(), run.byLevel());
    assertThat(line(table, "| exec/s on ÷ off at max rate against the peer"))
        .contains("0.970 vs 0.600 (met)", "0.900 vs 0.600 (met)");
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
    assertThat(ExecStormReport.targetsTable(List.of(s), List.of()))
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
    assertThat(ExecStormReport.targetsTable(List.of(s), List.of())).contains("| no oracle |");
  }

  @Test
  void levelSummaryGroupsPairsByConfigurationAndLoad() {
    List<LevelSummary> levels = LevelSummary.of(rounds());
    assertThat(levels)
        .extracting(
            l -> ExecStormReport.configLabel(l.config()) + "@" + RatePlan.label(l.targetRate()))
        .containsExactly(
            "--no-journal --no-scan --no-api@max",
            "--no-journal --no-scan --no-api@1000/s",
            "defaults@max");
    LevelSummary fixed = levels.get(1);
    assertThat(fixed.throughputRatios()).containsExactly(1.0);
    assertThat(fixed.late()).isEqualTo(3);
    assertThat(fixed.due()).isEqualTo(10_000);
    assertThat(fixed.cpuPercentOfCoreMedian()).isEqualTo(100 * 0.4 / 10, within(1e-9));
    assertThat(fixed.newP99MsWorst()).isEqualTo(2.0);
  }

  @Test
  void markdownHasEverySectionTheCountsOfTheOracleAndNoNaN() {
    String md = ExecStormReport.markdown(run(rounds(), peerRounds()));
    assertThat(md)
        .contains(
            "## By configuration and load",
            "## Against the targets of issue 17",
            ExecStormReport.TARGETS_NOTE,
            "## SHA-256 against OpenSSL (issue 8)",
            "| SHA-256 JDK MessageDigest ÷ openssl speed, 16 KiB blocks | ≥ 0.9 | 0.980 (1.47 vs 1.50 GB/s) (met) |",
            "## Exec counts: drivers, bpftrace, agent",
            "## Rounds",
            "![latency-cdf](latency-cdf.png)",
            "| 2 | --no-journal --no-scan --no-api | max | on | 9800 | 9800 | 9860 | 9850 | 0 |",
            "| 3 | --no-journal --no-scan --no-api | max | off | 10000 |  |  |  |  |",
            "| 6 | --no-journal --no-scan --no-api | 1000/s | on | 10000 | 0 | 3 | 1000 |",
            "| 100, 101, 100 | 1.000 / 2.000 / 2.000 ms (0 young collections) |")
        .doesNotContain("NaN", "issue 8\n\n| measure | target | `");
    assertEveryTableIsRectangular(md);
  }

  /** Every row of every table has as many cells as its header. */
  static void assertEveryTableIsRectangular(String md) {
    long header = -1;
    for (String l : md.lines().toList()) {
      if (!l.startsWith("|")) {
        header = -1;
        continue;
      }
      long cells = l.chars().filter(c -> c == '|').count();
      if (header < 0) {
        header = cells;
      }
      assertThat(cells).as(l).isEqualTo(header);
    }
  }

  static List<Round> peerRounds() {
    return List.of(
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
            null,
            Double.NaN));
  }

  @Test
  void peerSectionComparesAtTheSameLoad() {
    String md = ExecStormReport.markdown(run(rounds(), peerRounds()));
    assertThat(md)
        .contains(
            "## Peer: `fapolicyd`, same storm",
            "At max: peer exec/s on ÷ off (median of pairs; pairs: 0.600) 0.600; peer CPU, % of one core per 1,000 exec/s "
                + "(median) 50.00 %. VeriRuntime at the same load (ratio, CPU): `--no-journal --no-scan --no-api` 0.970, "
                + "22.50 %; `defaults` 0.900, 30.00 %.");
  }

  @Test
  void readmeSectionReplacesOnlyTheTextBetweenTheMarkersWithIssue17sTargets() {
    String readme =
        "# X\n\nintro\n"
            + ExecStormReport.README_BEGIN
            + "\nold table\n"
            + ExecStormReport.README_END
            + "\nafter\n";
    String section =
        ExecStormReport.readmeSection(run(rounds(), peerRounds()), "benchmarks/results");
    String updated = ExecStormReport.replaceReadmeSection(readme, section).orElseThrow();
    assertThat(updated)
        .startsWith(
            "# X\n\nintro\n"
                + ExecStormReport.README_BEGIN
                + "\nLatest exec-storm run: 2026-11-23 on 2 × AMD EPYC")
        .endsWith(ExecStormReport.README_END + "\nafter\n")
        .contains(
            "```sh\nbenchmarks/exec-storm.sh --rate max,1000\n```",
            ExecStormReport.TARGETS_NOTE,
            "| ≤ 5.0 % |",
            "| p99 ≤ 3.0 ms |",
            "| ≤ 200 MiB |",
            "0.970 vs 0.600 (met)",
            "SHA-256 (issue 8, ≥ 0.9× openssl speed): JDK MessageDigest 0.980×, `Sha256.digest` on a"
                + " 256 MiB file 0.900×.",
            "Peer `fapolicyd` in the same run at max: exec/s on ÷ off 0.600",
            "[latency-cdf.png](benchmarks/results/latency-cdf.png)")
        .doesNotContain("old table", "NaN");
    assertEveryTableIsRectangular(updated);
    assertThat(ExecStormReport.replaceReadmeSection("no markers", section)).isEmpty();
    assertThat(
            ExecStormReport.replaceReadmeSection(
                ExecStormReport.README_END + ExecStormReport.README_BEGIN, section))
        .isEmpty();
  }

  @Test
  void aNewBinaryWindowWithManyOtherVerdictsSaysSo() {
    assertThat(ExecStormReport.othersMixedIn(303, 300)).isFalse();
    assertThat(ExecStormReport.othersMixedIn(2_780, 200)).isTrue();
    Round on = rounds().get(1);
    Summary busy =
        Summary.of(
            ExecStorm.LEAN,
            List.of(
                rounds().get(0),
                on(
                    2,
                    ExecStorm.LEAN,
                    RatePlan.MAX,
                    9_800,
                    withNewVerdicts(on.agentRound(), 2_672),
                    on.oracle())),
            SHA);
    assertThat(
            line(
                ExecStormReport.targetsTable(List.of(busy), List.of()),
                "| exec → verdict, a new binary"))
        .contains("(2672 for 100 binaries: other execs on the host mixed in)");
  }

  static AgentRound withNewVerdicts(AgentRound a, long verdicts) {
    return withNew(
        a,
        a.newBinaries(),
        verdicts,
        a.newCacheMisses(),
        a.newP50Ms(),
        a.newP99Ms(),
        a.newP999Ms(),
        a.newHistogram());
  }

  /** {@code a} with other new-binary measures. */
  private static AgentRound withNew(
      AgentRound a,
      long binaries,
      long verdicts,
      long misses,
      double p50,
      double p99,
      double p999,
      LatencyHistogram histogram) {
    return new AgentRound(
        a.cpuSeconds(),
        a.cpuSecondsPer1000Execs(),
        a.peakRssKiB(),
        a.execEventsSeen(),
        a.execsFilteredInKernel(),
        a.lostKernel(),
        a.lostKernelExec(),
        a.dropped(),
        a.lostInDegradedReports(),
        a.unaccountedAtLeast(),
        a.latencyCount(),
        a.p50Ms(),
        a.p99Ms(),
        a.p999Ms(),
        a.maxMs(),
        a.cacheHits(),
        a.cacheMisses(),
        a.calmExecs(),
        a.calmLatencyCount(),
        a.calmP50Ms(),
        a.calmP99Ms(),
        a.calmP999Ms(),
        a.calmYoungCollections(),
        a.calmYoungPauseMs(),
        binaries,
        verdicts,
        misses,
        p50,
        p99,
        p999,
        a.newYoungCollections(),
        a.newYoungPauseMs(),
        a.stormHistogram(),
        a.calmHistogram(),
        histogram,
        a.warmupCpuSecondsPer1000Execs(),
        a.warmup(),
        a.cpuSplit());
  }

  @Test
  void aPairDividesByTheMeanOfTheOffStormsBeforeAndRightAfterItsOnRound() {
    // Off 1,000 exec/s before, on 900, off 800 right after the agent stopped: the machine slowed
    // down while the agent warmed up, and the agent's share is 900 / 900, not 900 / 1,000.
    Round before = off(1, ExecStorm.LEAN, RatePlan.MAX, 10_000, null);
    Round on = on(2, ExecStorm.LEAN, RatePlan.MAX, 9_000, agent(0.2, 9_050, 0, 3.0, 0.4), null);
    Round bracketed = with(on, on.agentRound(), 800);
    assertThat(ExecStorm.pairRatios(List.of(before, on))).containsExactly(0.9);
    assertThat(ExecStorm.pairRatios(List.of(before, bracketed)).get(0))
        .isEqualTo(1.0, within(1e-9));
    assertThat(line(ExecStormReport.roundsTable(List.of(before, bracketed)), "| 2 |"))
        .contains("| 900 (off right after: 800) |");
    assertThat(line(ExecStormReport.roundsTable(List.of(before, on)), "| 2 |")).contains("| 900 |");
  }

  @Test
  void eachAgentRoundSaysWhereItsCpuWentAndHowLongItWarmedUp() {
    List<Round> rounds = rounds();
    String table = ExecStormReport.roundsTable(rounds);
    List<String> lines = table.lines().toList();
    int columns = lines.get(0).split("\\|", -1).length;
    assertThat(lines).allSatisfy(l -> assertThat(l.split("\\|", -1)).hasSize(columns));
    assertThat(lines.get(0))
        .contains("agent CPU s: JIT / GC+VM / ring reader / rest", "warm-up s (JIT % of a core");
    // round 2 is the first agent-on round, 0.20 CPU s per 1k execs: 2.0 CPU s in all
    String on = line(table, "| 2 |");
    assertThat(on)
        .contains(
            "| 0.80 / 0.10 / 0.60 / 0.50 |", "| veriruntime-tim 0.20 |", "| 90 settled (0.4 %) |");
    AgentThreads.CpuSplit split = rounds.get(1).agentRound().cpuSplit();
    assertThat(
            split.jitSeconds() + split.gcVmSeconds() + split.ringSeconds() + split.otherSeconds())
        .isCloseTo(rounds.get(1).agentRound().cpuSeconds(), within(1e-9));
    assertThat(ExecStormReport.splitLabel(split, 2.0))
        .isEqualTo(
            "JIT 0.80 s (40 %), GC/VM 0.10 s (5 %), ring reader 0.60 s (30 %), rest 0.50 s (25 %)"
                + " [veriruntime-tim 0.20]");
    assertThat(ExecStormReport.warmupCell(new ExecStorm.Warmup(240, 1, 24, false, 2.34, 0.1)))
        .isEqualTo("240 capped (2.3 %)");
    assertThat(ExecStormReport.warmupCell(ExecStorm.Warmup.none())).isEqualTo("none");

    // by level: the on rounds' splits summed, each kind's share of the agent's CPU
    LevelSummary atMax = LevelSummary.of(rounds).get(0);
    assertThat(atMax.cpuSplitSum().totalSeconds()).isCloseTo(4.5, within(1e-9));
    assertThat(ExecStormReport.shareCell(atMax.cpuSplitSum())).isEqualTo("40 / 5 / 30 / 25");
    assertThat(atMax.cpuSplitSum().biggestOther())
        .singleElement()
        .satisfies(n -> assertThat(n.seconds()).isCloseTo(0.45, within(1e-9)));
    assertThat(ExecStormReport.warmupRangeCell(atMax)).isEqualTo("90 (2 of 2 settled)");
    String levels = ExecStormReport.levelTable(LevelSummary.of(rounds));
    assertThat(levels.lines().toList())
        .allSatisfy(
            l ->
                assertThat(l.split("\\|", -1))
                    .hasSize(levels.lines().findFirst().get().split("\\|", -1).length));
    assertThat(levels).contains("| 40 / 5 / 30 / 25 | 90 (2 of 2 settled) |");
    assertThat(ExecStormReport.splitCell(AgentThreads.CpuSplit.none())).isEqualTo("n/a");
  }

  @Test
  void latenciesWithoutObservationsReadNa() {
    assertThat(ExecStormReport.ms(Double.NaN)).isEqualTo("n/a");
    assertThat(ExecStormReport.ms3(Double.NaN, Double.NaN, Double.NaN)).isEqualTo("n/a");
    assertThat(ExecStormReport.ms3(0.0412, 0.9, 1.25)).isEqualTo("0.041 / 0.900 / 1.250");
    assertThat(ExecStormReport.noStormLatency(100, 0)).isEqualTo("n/a: no verdicts");
  }

  @Test
  void aCalmCellNamesTheYoungCollectionsThatFellIntoTheCalmExecs() {
    assertThat(ExecStormReport.calmCell(agent(0.2, 9_000, 0, 3.0, 2.0)))
        .isEqualTo("0.040 / 2.000 / 2.000 ms (1 young collection, 2 ms)");
    assertThat(ExecStormReport.calmCell(agent(0.2, 9_000, 0, 3.0, 0.6)))
        .isEqualTo("0.040 / 0.600 / 0.600 ms (0 young collections)");
  }

  @Test
  void aNewBinaryCellNamesTheYoungCollectionsAmongTheNewBinaries() {
    AgentRound slow = agent(0.2, 9_000, 0, 100, 0, 3.0, 0.6, 6.5);
    assertThat(ExecStormReport.newCell(slow))
        .isEqualTo("1.000 / 6.500 / 6.500 ms (1 young collection, 4 ms)");
    assertThat(ExecStormReport.newCell(agent(0.2, 9_000, 0, 3.0, 0.6)))
        .isEqualTo("1.000 / 2.000 / 2.000 ms (0 young collections)");
    assertThat(
            line(
                ExecStormReport.roundsTable(
                    List.of(on(2, ExecStorm.LEAN, RatePlan.MAX, 9_000, slow, null))),
                "| 2 |"))
        .contains("| 1.000 / 6.500 / 6.500 ms (1 young collection, 4 ms) |");
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
