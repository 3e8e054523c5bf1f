package dev.veriruntime.benchmarks;

import static dev.veriruntime.benchmarks.PrometheusScrape.delta;
import static dev.veriruntime.benchmarks.PrometheusScrape.gained;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.veriruntime.verifier.hash.Sha256;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.http.HttpClient;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The end-to-end exec-storm harness: the cost of {@code veriruntime watch} on a host that execs as
 * fast as it can, measured as ratios within one run (agent off vs on, JDK vs OpenSSL) so that a
 * busy shared machine moves both sides of each ratio alike.
 *
 * <p>It compiles the ingest tests' {@code exec_driver.c} and K distinct child binaries (one
 * compiled {@code exec_child.c}, copied K times with a different trailer so that each copy has its
 * own SHA-256), then alternates rounds: agent off → storm; agent on (a fresh {@code watch}
 * subprocess, started, settled, measured through {@code /proc} and its Prometheus endpoint, then
 * stopped with SIGTERM) → the same storm. A storm is K drivers running {@code storm CHILD_i S W} at
 * once; each driver counts the execs that exited 0, independently of the agent. Rounds run per
 * agent configuration ({@code --agent-args}) and per load level ({@code --rate}: as fast as
 * possible, or a fixed total exec/s paced by the drivers); {@code bpftrace}, when present, counts
 * the execs of every round as an oracle independent of both (in a mount namespace of its own, for
 * tracefs). After each agent-on storm come sequential execs of a cached identity the kernel always
 * reports ("calm") and freshly written distinct binaries run once each ("new binaries"), for
 * latency without a queue. The report holds issue 17's targets. Last comes SHA-256 throughput of
 * the JDK against {@code openssl speed}. Results go to {@code exec-storm.json}, {@code
 * exec-storm.md} and two PNG plots in the output directory, and optionally into a README section.
 *
 * <p>Needs root (the agent loads the probe), gcc and openssl. Not thread-safe; one run per JVM.
 *
 * <pre>{@code
 * java -cp benchmarks/target/benchmarks.jar dev.veriruntime.benchmarks.ExecStorm \
 *     --seconds 10 --pairs 3 --binaries 8 --agent bin/veriruntime
 * }</pre>
 */
@Command(
    name = "exec-storm",
    mixinStandardHelpOptions = true,
    description =
        "Exec throughput, CPU, RSS, loss and latency of `veriruntime watch` under an exec storm.")
public final class ExecStorm implements Callable<Integer> {
  private static final String DRIVER_SOURCE =
      "ingest/src/test/resources/dev/veriruntime/ingest/testing/exec/exec_driver.c";
  private static final String CHILD_SOURCE =
      "ingest/src/test/resources/dev/veriruntime/ingest/testing/exec/exec_child.c";
  private static final String UNIQUE_DRIVER_SOURCE = "benchmarks/unique-storm/unique_driver.c";
  private static final String WATCHING = "veriruntime: watching";
  private static final String LATENCY = "veriruntime_exec_verdict_latency_seconds";

  /** The agent's collections (Micrometer's JvmGcMetrics), by action: young ones below. */
  private static final String GC_PAUSE = "jvm_gc_pause_seconds";

  private static final String MINOR_GC = "end of minor GC";

  // Targets of issue 17 ("Per-exec cost"): reported against, never asserted.
  /** exec/s agent on ÷ off at max rate, and above the peer's ratio in the same run. */
  static final double TARGET_THROUGHPUT_RATIO = 0.97;

  /** % of one core per 1,000 exec/s, at max rate and at {@link #TARGET_FIXED_RATE}. */
  static final double TARGET_CPU_PERCENT_PER_KEXEC = 5.0;

  /** The fixed load level the CPU target names, exec/s. */
  static final double TARGET_FIXED_RATE = 1000;

  /** exec → verdict of a cached identity on a calm host. */
  static final double TARGET_CALM_P50_MS = 0.050;

  static final double TARGET_CALM_P99_MS = 1.0;

  /** exec → verdict during the max-rate storm (queueing included). */
  static final double TARGET_STORM_P99_MS = 5.0;

  /** exec → verdict of a binary the agent has never seen ({@link #newBinaryKiB} KiB). */
  static final double TARGET_NEW_BINARY_P99_MS = 3.0;

  static final double TARGET_RSS_MIB = 200;

  /** Issue 8's SHA-256 target (JDK ÷ openssl speed), reported beside issue 17's. */
  static final double TARGET_SHA_RATIO = 0.9;

  @Option(names = "--seconds", description = "Storm length per round (default: ${DEFAULT-VALUE}).")
  double seconds = 10;

  @Option(names = "--pairs", description = "Off/on round pairs (default: ${DEFAULT-VALUE}).")
  int pairs = 3;

  @Option(
      names = "--binaries",
      description = "Distinct child binaries K, one driver each (default: ${DEFAULT-VALUE}).")
  int binaries = 8;

  @Option(names = "--workers", description = "Exec loops per driver (default: ${DEFAULT-VALUE}).")
  int workers = 1;

  @Option(
      names = "--settle",
      description =
          "Seconds between the agent's 'watching' line and the storm (default: ${DEFAULT-VALUE}).")
  double settle = 2;

  @Option(
      names = "--calm-execs",
      description =
          "Sequential execs after each storm, for latency without queueing: N distinct binaries,"
              + " never trusted, each verified at the round's start (a cached identity) and run once"
              + " here, so that the kernel reports every exec (it counts the repeats of an unknown"
              + " binary instead) (default: ${DEFAULT-VALUE}).")
  int calmExecs = 500;

  @Option(
      names = "--calm-gap-ms",
      paramLabel = "MS",
      description =
          "Milliseconds between the end of one calm exec and the start of the next; 0 runs them"
              + " back to back, the best case (both CPUs still awake and the reader's code warm"
              + " from the previous exec), while one exec every few tens of milliseconds is what a"
              + " quiet host sees (default: ${DEFAULT-VALUE}).")
  long calmGapMs = 0;

  @Option(
      names = "--new-binaries",
      paramLabel = "N",
      description =
          "After the calm execs of each agent-on round, N freshly written distinct executables"
              + " of --new-binary-kib each run once, --new-binary-gap apart, for the latency of a"
              + " binary the agent has never seen; 0 for none (default: ${DEFAULT-VALUE}).")
  int newBinaries = 100;

  @Option(
      names = "--new-binary-kib",
      paramLabel = "KIB",
      description = "Size of each new binary in KiB (default: ${DEFAULT-VALUE}).")
  int newBinaryKiB = 1024;

  @Option(
      names = "--new-binary-gap",
      paramLabel = "SECONDS",
      description =
          "Pause between two new binaries, so that each is answered without a queue"
              + " (default: ${DEFAULT-VALUE}).")
  double newBinaryGap = 0.02;

  @Option(
      names = "--port",
      description = "Agent metrics port on 127.0.0.1 (default: ${DEFAULT-VALUE}).")
  int port = 19465;

  @Option(
      names = "--root",
      description = "Repository root, for the C sources (default: ${DEFAULT-VALUE}).")
  Path root = Path.of(".");

  @Option(
      names = "--agent",
      description =
          "The agent's launcher, run as `AGENT watch ...` with its default JVM"
              + " options (default: ${DEFAULT-VALUE}).")
  Path agentLauncher = Path.of("bin/veriruntime");

  @Option(
      names = "--agent-warmup",
      paramLabel = "SECONDS",
      description =
          "The least unrecorded storm (same load level as the round) with each fresh agent before"
              + " the measured one: a long-running agent has compiled its hot path long before."
              + " After it the warm-up goes on in slices of --agent-warmup-slice until the agent's"
              + " JIT compiler threads used less than --agent-warmup-jit-percent of one core in the"
              + " last slice, or --agent-warmup-max is reached; 0 for no warm-up. Its CPU is"
              + " reported apart (default: ${DEFAULT-VALUE}).")
  double agentWarmup = 20;

  @Option(
      names = "--agent-warmup-max",
      paramLabel = "SECONDS",
      description =
          "The longest warm-up storm, whether or not the JIT has settled (default:"
              + " ${DEFAULT-VALUE}).")
  double agentWarmupMax = 240;

  @Option(
      names = "--agent-warmup-slice",
      paramLabel = "SECONDS",
      description =
          "Length of one warm-up slice, over which the JIT's CPU is judged (default:"
              + " ${DEFAULT-VALUE}).")
  double agentWarmupSlice = 10;

  @Option(
      names = "--agent-warmup-jit-percent",
      paramLabel = "PERCENT",
      description =
          "The JIT has settled when its compiler threads (C1/C2) used less than this %% of one"
              + " core over the last warm-up slice (default: ${DEFAULT-VALUE}).")
  double agentWarmupJitPercent = 1.0;

  @Option(
      names = "--rate-seconds",
      paramLabel = "SECONDS",
      description =
          "Storm length per round at a fixed rate (off and on alike), longer than --seconds so"
              + " that one late JIT compilation (a few hundred ms of CPU) does not decide a round's"
              + " CPU per 1,000 execs; 0 for --seconds (default: ${DEFAULT-VALUE}).")
  double rateSeconds = 20;

  @Option(
      names = "--out",
      description = "Directory for exec-storm.json and exec-storm.md (default: ${DEFAULT-VALUE}).")
  Path out = Path.of("benchmarks/results");

  @Option(
      names = "--sha-mib",
      description = "Size of the file Sha256.digest hashes (default: ${DEFAULT-VALUE}).")
  int shaMiB = 256;

  @Option(
      names = "--peer",
      paramLabel = "CMD",
      description =
          "A peer to compare with (e.g. 'fapolicyd --permissive --debug-deny'): "
              + "after the agent's pairs, as many off/peer pairs, same storm. Split on spaces.")
  String peerCommand;

  @Option(
      names = "--peer-ready",
      paramLabel = "TEXT",
      description = "Text the peer prints once it is ready (default: ${DEFAULT-VALUE}).")
  String peerReady = "Starting to listen for events";

  @Option(
      names = "--peer-setup",
      paramLabel = "CMD",
      description =
          "Run with the directory of the binaries appended, before the peer rounds "
              + "(e.g. 'fapolicyd-cli --file add').")
  String peerSetup;

  @Option(
      names = "--peer-teardown",
      paramLabel = "CMD",
      description = "Run with the directory of the binaries appended, after the peer rounds.")
  String peerTeardown;

  @Option(
      names = "--command",
      description = "The command line to record in the results (set by exec-storm.sh).")
  String commandLine;

  @Option(
      names = "--rate",
      split = ",",
      paramLabel = "R",
      description =
          "Load levels, comma-separated: 'max' (every driver "
              + "execs as fast as it can) or a total exec/s that the drivers pace; each level gets --pairs off/on pairs "
              + "(default: max,1000, the two levels issue 17's CPU target names).")
  List<String> rates = new ArrayList<>(List.of("max", "1000"));

  @Option(
      names = "--agent-args",
      paramLabel = "ARGS",
      description =
          "Extra `watch` arguments of one agent configuration, "
              + "split on spaces; repeatable, one set of rounds each; 'default' for none (watch's defaults: journal, start-up scan, "
              + "control API); the word "
              + TRUSTED_CHILDREN
              + " trusts the storm's binaries through a statement signed for the run."
              + " Default: '"
              + LEAN
              + "' (the bare data path) and 'default' (the targets' configuration).")
  List<String> agentConfigs = new ArrayList<>(List.of(LEAN, DEFAULTS));

  @Option(names = "--no-oracle", description = "Do not count execs with bpftrace.")
  boolean noOracle;

  @Option(
      names = "--readme",
      paramLabel = "FILE",
      description =
          "Also rewrite the part of FILE between "
              + ExecStormReport.README_BEGIN
              + " and "
              + ExecStormReport.README_END
              + " with this run's summary.")
  Path readme;

  /**
   * The bare data path: no evidence journal, no start-up scan, no control API (the barest `watch`
   * has; metrics stay on, the harness reads them).
   */
  static final String LEAN = "--no-journal --no-scan --no-api";

  static final String DEFAULTS = "default";

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private long clockTicks;
  private Path work;
  private boolean oracle;

  /** The children's names start with it, and the oracle counts them by it. */
  private final String childPrefix = ExecOracle.childPrefix(new Random());

  /**
   * Never trusted, never in a storm, each run once per calm phase: the calm execs' cached
   * identities (distinct, so that none is a repeat that the kernel counts instead of reporting).
   */
  private final List<Path> calmChildren = new ArrayList<>();

  /** Writes and runs the new binaries ({@code benchmarks/unique-storm/unique_driver.c}). */
  private Path uniqueDriver;

  /** The child padded to {@code newBinaryKiB} − 8 bytes; each new binary adds an 8-byte index. */
  private Path newBinaryBase;

  /** The index of the next new binary: every one of the run has its own digest. */
  private long newBinaryNext;

  public static void main(String[] args) {
    System.exit(ChildProcesses.execute("exec-storm", new ExecStorm(), args));
  }

  /**
   * One storm: what the drivers counted, and the agent's (or the peer's) side when it ran. An off
   * round carries the configuration of the on round it is paired with.
   *
   * @param config the agent's extra arguments ({@link #DEFAULTS} for none), or "peer"
   * @param targetRate total exec/s the drivers paced, or {@link RatePlan#MAX}
   * @param late execs that started over 1 ms after they were due (fixed rate only)
   * @param due execs due at the fixed rate (0 at max)
   * @param oracle bpftrace's counts over the round, or null without the oracle
   * @param offAfterExecsPerSecond an on (or peer) round at max rate: exec/s of the off storm run
   *     right after the agent (or peer) stopped; NaN for other rounds
   */
  record Round(
      int index,
      String config,
      double targetRate,
      boolean agent,
      long execs,
      long failed,
      long late,
      long due,
      double seconds,
      double execsPerSecond,
      AgentRound agentRound,
      PeerRound peerRound,
      ExecOracle.Counts oracle,
      double offAfterExecsPerSecond) {}

  /** What the K drivers counted in one storm. */
  record StormCounts(long ok, long failed, long late, long due) {}

  /**
   * The agent's numbers for one round. Counters, and the latency percentiles (computed from the
   * histogram buckets), are deltas from just before the storm to the end of the drain; maxMs is the
   * agent's own decaying maximum. {@code execEventsSeen} includes {@code execsFilteredInKernel}:
   * execs of verified, quiet identities that the probe counted instead of sending, which get no
   * per-exec verdict and so no latency. The calm figures are the latency of {@code calmExecs}
   * sequential execs of a binary the agent has already verified and never trusts (so the kernel
   * reports each exec of it), run after the storm has drained: a cached identity without a queue in
   * front of it; {@code calmYoungCollections} young collections came between the scrape before
   * those execs and the one right after them, {@code calmYoungPauseMs} their pauses together (the
   * agent's {@code jvm.gc.pause}, whole milliseconds each): each stops the ring reader, and the
   * execs meanwhile wait behind it. The new-binary figures are the latency of {@code newBinaries}
   * freshly written distinct executables, each run once, after that; their window also holds the
   * one exec of the driver that runs them (a cached identity) and whatever else the host ran;
   * {@code newYoungCollections} and {@code newYoungPauseMs} are the young collections between the
   * scrape before the first of them and the one right after the last, as for the calm execs.
   */
  record AgentRound(
      double cpuSeconds,
      double cpuSecondsPer1000Execs,
      long peakRssKiB,
      long execEventsSeen,
      long execsFilteredInKernel,
      long lostKernel,
      long lostKernelExec,
      long dropped,
      long lostInDegradedReports,
      long unaccountedAtLeast,
      long latencyCount,
      double p50Ms,
      double p99Ms,
      double p999Ms,
      double maxMs,
      long cacheHits,
      long cacheMisses,
      long calmExecs,
      long calmLatencyCount,
      double calmP50Ms,
      double calmP99Ms,
      double calmP999Ms,
      long calmYoungCollections,
      double calmYoungPauseMs,
      long newBinaries,
      long newLatencyCount,
      long newCacheMisses,
      double newP50Ms,
      double newP99Ms,
      double newP999Ms,
      long newYoungCollections,
      double newYoungPauseMs,
      LatencyHistogram stormHistogram,
      LatencyHistogram calmHistogram,
      LatencyHistogram newHistogram,
      double warmupCpuSecondsPer1000Execs,
      Warmup warmup,
      AgentThreads.CpuSplit cpuSplit) {

    /**
     * Whether the storm's latency percentiles describe the storm: there were verdicts, and more of
     * them than execs counted in the kernel (which get none). With the storm's binaries trusted,
     * nearly every storm exec is counted in the kernel, and the few verdicts left are other execs
     * on the host.
     */
    boolean stormLatencyApplies() {
      return latencyCount > 0 && execsFilteredInKernel < latencyCount;
    }
  }

  /**
   * The unrecorded warm-up storm of one agent-on round: its length and execs, its slices, whether
   * the JIT settled (its compiler threads under the threshold over the last slice) or the cap ended
   * it, and the JIT's share of one core over the last slice.
   */
  record Warmup(
      double seconds,
      long execs,
      int slices,
      boolean settled,
      double lastSliceJitPercent,
      double cpuSecondsPer1000Execs) {
    static Warmup none() {
      return new Warmup(0, 0, 0, false, Double.NaN, Double.NaN);
    }
  }

  /**
   * A peer's numbers for one round: CPU over the storm (utime+stime of its main process) and peak
   * RSS.
   */
  record PeerRound(
      String command, double cpuSeconds, double cpuSecondsPer1000Execs, long peakRssKiB) {}

  record Sha(
      double opensslGBps,
      double jdkBlocksGBps,
      double jdkFileGBps,
      int fileMiB,
      double ratioBlocks,
      double ratioFile) {}

  @Override
  public Integer call() throws Exception {
    if (binaries < 1
        || binaries > 64
        || workers < 1
        || workers > 64
        || pairs < 1
        || seconds <= 0
        || rateSeconds < 0
        || agentWarmup < 0
        || agentWarmupSlice <= 0
        || agentWarmupMax < agentWarmup
        || agentWarmupJitPercent <= 0
        || calmExecs < 1
        || calmGapMs < 0
        || newBinaries < 0
        || newBinaryKiB < 64
        || newBinaryGap < 0
        || agentConfigs.isEmpty()) {
      throw new CommandLine.ParameterException(
          new CommandLine(this),
          "--binaries/--workers in 1..64, --pairs ≥ 1, --seconds > 0, --rate-seconds ≥ 0,"
              + " --agent-warmup ≥ 0, --agent-warmup-max ≥ --agent-warmup, --agent-warmup-slice > 0,"
              + " --agent-warmup-jit-percent > 0, --calm-execs ≥ 1, --calm-gap-ms ≥ 0, --new-binaries ≥ 0, --new-binary-kib ≥ 64, --new-binary-gap ≥ 0, at least one"
              + " --agent-args");
    }
    List<Double> levels;
    try {
      levels = RatePlan.parseLevels(rates);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
    }
    Instant started = Instant.now();
    Map<String, Object> machine = machine();
    clockTicks = Long.parseLong(run(List.of("getconf", "CLK_TCK")).strip());
    work = Files.createTempDirectory("veriruntime-exec-storm-");
    try {
      Path driver = build();
      List<Path> children = children();
      String oracleNote = oracleNote();
      log("exec oracle: " + oracleNote);
      log("warm-up storm (1 s, not recorded)");
      storm(driver, children, 1, RatePlan.MAX);
      List<Round> rounds = new ArrayList<>();
      for (String config : agentConfigs) {
        for (double level : levels) {
          for (int p = 0; p < pairs; p++) {
            rounds.add(offRound(rounds.size() + 1, config, level, driver, children));
            rounds.add(onRound(rounds.size() + 1, config, level, driver, children));
          }
        }
      }
      List<Round> peerRounds = new ArrayList<>();
      if (peerCommand != null) {
        if (peerSetup != null) {
          run(withDirectory(peerSetup));
        }
        try {
          for (double level : levels) {
            for (int p = 0; p < pairs; p++) {
              peerRounds.add(
                  offRound(rounds.size() + peerRounds.size() + 1, "peer", level, driver, children));
              peerRounds.add(
                  peerRound(rounds.size() + peerRounds.size() + 1, level, driver, children));
            }
          }
        } catch (IllegalStateException | IOException e) {
          // A peer that does not start (an unprepared fapolicyd) costs the report its comparison,
          // not the agent's rounds measured before it.
          log(
              "the peer failed, the report has no peer: "
                  + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
          peerRounds.clear();
        } finally {
          if (peerTeardown != null) {
            run(withDirectory(peerTeardown));
          }
        }
      }
      Sha sha = sha256();
      machine.put("loadavgEnd", loadAverage());
      write(started, machine, levels, oracleNote, rounds, peerRounds, sha);
      return 0;
    } finally {
      deleteTree(work);
    }
  }

  /** Whether bpftrace counts execs in this run, and if not, why. */
  private String oracleNote() {
    if (noOracle) {
      oracle = false;
      return "off (--no-oracle)";
    }
    java.util.Optional<String> why =
        ExecOracle.unavailableReason(work.resolve("bpftrace-check.err"), childPrefix);
    oracle = why.isEmpty();
    return why.map(w -> "unavailable: " + w).orElse(ExecOracle.DESCRIPTION);
  }

  private Path build() throws IOException, InterruptedException {
    Path driver = work.resolve("exec_driver");
    Path child = work.resolve("exec_child");
    run(List.of("gcc", "-O2", "-o", driver.toString(), root.resolve(DRIVER_SOURCE).toString()));
    run(List.of("gcc", "-O2", "-o", child.toString(), root.resolve(CHILD_SOURCE).toString()));
    uniqueDriver = work.resolve("unique_driver");
    run(
        List.of(
            "gcc",
            "-O2",
            "-o",
            uniqueDriver.toString(),
            root.resolve(UNIQUE_DRIVER_SOURCE).toString()));
    return driver;
  }

  /** K copies of the child, each with its own trailer: distinct files and distinct digests. */
  private List<Path> children() throws IOException, InterruptedException {
    byte[] base = Files.readAllBytes(work.resolve("exec_child"));
    List<Path> out = new ArrayList<>();
    for (int i = 0; i < binaries; i++) {
      out.add(variant(base, work.resolve(childPrefix + i), "child " + i));
    }
    for (int i = 0; i < calmExecs; i++) {
      calmChildren.add(variant(base, work.resolve("calm-" + i), "calm " + i));
    }
    int size = newBinaryKiB * 1024 - 8;
    if (size < base.length) {
      throw new IllegalStateException(
          "--new-binary-kib " + newBinaryKiB + " is smaller than the child (" + base.length + ")");
    }
    // The loader ignores the bytes past the last segment; random, so that nothing compresses them.
    byte[] padded = Arrays.copyOf(base, size);
    byte[] fill = new byte[size - base.length];
    new Random(17).nextBytes(fill);
    System.arraycopy(fill, 0, padded, base.length, fill.length);
    newBinaryBase = work.resolve("new-binary-base");
    Files.write(newBinaryBase, padded);
    String check =
        run(List.of(work.resolve("exec_driver").toString(), "count", out.get(0).toString(), "1"));
    if (!check.strip().endsWith("done 1 0")) {
      throw new IllegalStateException("the driver could not run a child: " + check.strip());
    }
    return out;
  }

  /**
   * Writes {@code base} plus a trailer naming {@code what} to {@code path}: a digest of its own.
   */
  private static Path variant(byte[] base, Path path, String what) throws IOException {
    byte[] trailer = ("veriruntime exec-storm " + what + "\n").getBytes(StandardCharsets.US_ASCII);
    byte[] bytes = Arrays.copyOf(base, base.length + trailer.length);
    System.arraycopy(trailer, 0, bytes, base.length, trailer.length);
    Files.write(path, bytes);
    path.toFile().setExecutable(true, false);
    return path;
  }

  /** The driver's command that runs each of {@code children} once, in order. */
  private static List<String> runEach(Path driver, List<Path> children) {
    List<String> command = new ArrayList<>(List.of(driver.toString(), "each"));
    children.forEach(c -> command.add(c.toString()));
    return command;
  }

  /** As {@link #runEach}, {@code --calm-gap-ms} apart. */
  private List<String> runCalm(Path driver, List<Path> children) {
    if (calmGapMs == 0) {
      return runEach(driver, children);
    }
    List<String> command =
        new ArrayList<>(List.of(driver.toString(), "spaced", Long.toString(calmGapMs)));
    children.forEach(c -> command.add(c.toString()));
    return command;
  }

  /**
   * Runs the K drivers at once and sums their counts: as fast as possible ({@code storm}, W loops
   * each) or at a fixed total rate ({@code rate}, each driver R/K per second).
   */
  private StormCounts storm(Path driver, List<Path> children, double secs, double totalRate)
      throws IOException, InterruptedException {
    List<Process> drivers = new ArrayList<>();
    for (Path child : children) {
      List<String> command =
          totalRate == RatePlan.MAX
              ? List.of(
                  driver.toString(),
                  "storm",
                  child.toString(),
                  Double.toString(secs),
                  Integer.toString(workers))
              : List.of(
                  driver.toString(),
                  "rate",
                  child.toString(),
                  Double.toString(secs),
                  Double.toString(RatePlan.perDriver(totalRate, children.size())));
      drivers.add(
          new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start());
    }
    long ok = 0;
    long failed = 0;
    long late = 0;
    for (Process d : drivers) {
      String output =
          new String(d.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
      if (!d.waitFor(Math.round(secs) + 60, TimeUnit.SECONDS)
          || d.exitValue() != 0
          || !output.startsWith("done ")) {
        throw new IllegalStateException("driver failed: " + output);
      }
      String[] f = output.split("\\s+");
      ok += Long.parseLong(f[1]);
      failed += Long.parseLong(f[2]);
      late += f.length > 3 ? Long.parseLong(f[3]) : 0;
    }
    long due = totalRate == RatePlan.MAX ? 0 : RatePlan.due(totalRate, children.size(), secs);
    return new StormCounts(ok, failed, late, due);
  }

  /** The storm, counted by bpftrace too when the oracle is on. */
  private record Counted(StormCounts storm, ExecOracle.Counts oracle) {}

  private Counted countedStorm(Path driver, List<Path> children, double level, String label)
      throws Exception {
    ExecOracle o =
        oracle ? ExecOracle.start(work.resolve("bpftrace-" + label + ".err"), childPrefix) : null;
    try {
      StormCounts c = storm(driver, children, windowSeconds(level), level);
      return new Counted(c, stopOracle(o));
    } finally {
      if (o != null) {
        o.close();
      }
    }
  }

  /**
   * At max rate, the off storm right after an on (or peer) round, once the agent (or peer) has
   * stopped: the pair's on ÷ off divides by the mean of this one and the off round before, so that
   * the machine's drift during the agent's start and warm-up does not enter the ratio. NaN at a
   * fixed rate, where on ÷ off is 1 by design.
   */
  private double offAfter(int index, double level, Path driver, List<Path> children)
      throws Exception {
    if (level != RatePlan.MAX) {
      return Double.NaN;
    }
    Counted counted = countedStorm(driver, children, level, index + "-after");
    double rate = counted.storm().ok() / windowSeconds(level);
    log(
        String.format(
            Locale.ROOT,
            "  off again right after: %d execs, %.0f exec/s%s",
            counted.storm().ok(),
            rate,
            oracleLog(counted.oracle())));
    return rate;
  }

  /**
   * The oracle's counts for the window just ended, or null without an oracle or when bpftrace hung
   * on SIGTERM (said in the log; the round is then reported without an oracle count).
   */
  private static ExecOracle.Counts stopOracle(ExecOracle o) throws InterruptedException {
    if (o == null) {
      return null;
    }
    return o.stop()
        .orElseGet(
            () -> {
              log(
                  "  bpftrace did not exit within 30 s of SIGTERM (killed): no oracle count for this round");
              return null;
            });
  }

  /** The measured storm's length at a load level: {@code --rate-seconds} at a fixed rate. */
  double windowSeconds(double level) {
    return level == RatePlan.MAX || rateSeconds == 0 ? seconds : rateSeconds;
  }

  private Round offRound(int index, String config, double level, Path driver, List<Path> children)
      throws Exception {
    double seconds = windowSeconds(level);
    log("round " + index + ": off, storm " + seconds + " s at " + RatePlan.label(level));
    Counted counted = countedStorm(driver, children, level, Integer.toString(index));
    StormCounts c = counted.storm();
    Round r =
        new Round(
            index,
            config,
            level,
            false,
            c.ok(),
            c.failed(),
            c.late(),
            c.due(),
            seconds,
            c.ok() / seconds,
            null,
            null,
            counted.oracle(),
            Double.NaN);
    log(
        String.format(
            Locale.ROOT,
            "  %d execs, %.0f exec/s%s",
            c.ok(),
            r.execsPerSecond,
            oracleLog(counted.oracle())));
    return r;
  }

  private static String oracleLog(ExecOracle.Counts o) {
    return o == null
        ? ""
        : String.format(
            Locale.ROOT,
            "; bpftrace: %d storm execs, %d on the host",
            o.stormExecs(),
            o.allExecs());
  }

  private Round onRound(int index, String config, double level, Path driver, List<Path> children)
      throws Exception {
    double seconds = windowSeconds(level);
    log(
        "round "
            + index
            + ": agent on ("
            + ExecStormReport.configLabel(config)
            + "), storm "
            + seconds
            + " s at "
            + RatePlan.label(level));
    Path stdout = work.resolve("agent-" + index + ".jsonl");
    Path stderr = work.resolve("agent-" + index + ".err");
    List<String> command =
        new ArrayList<>(
            List.of(
                agentLauncher.toString(),
                "watch",
                "--json",
                "--metrics-port",
                Integer.toString(port),
                "--state-dir",
                work.resolve("state-" + index).toString()));
    for (String arg : agentArguments(config)) {
      if (arg.equals(TRUSTED_CHILDREN)) {
        command.addAll(trustedChildren(driver, children));
      } else {
        command.add(arg);
      }
    }
    ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(stdout.toFile());
    builder.environment().remove("VERIRUNTIME_JAVA_OPTS");
    Process agent = builder.start();
    ExecOracle o = null;
    try {
      awaitWatching(agent, stderr);
      // The calm binaries and the new binaries' driver become cached identities long before they
      // are measured (run with no binary to run, the driver execs nothing but itself).
      run(runEach(driver, calmChildren));
      run(List.of(uniqueDriver.toString(), "run", work.toString(), "0", "0", "1"));
      Thread.sleep(Math.round(settle * 1000));
      awaitQuiet();
      if (oracle) {
        // bpftrace and its LLVM and clang libraries are new to the agent: run once now (it maps
        // them to print its version), their verification and its JIT work land in the warm-up,
        // and the measured oracle's exec and mappings are cache hits.
        run(List.of("bpftrace", "--version"));
      }
      Warmup warmup = warmUp(agent.pid(), driver, children, level);
      double warmupCpuPer1000 = warmup.cpuSecondsPer1000Execs();
      o = oracle ? ExecOracle.start(work.resolve("bpftrace-" + index + ".err"), childPrefix) : null;
      // bpftrace is an exec like any other: the agent verifies it (and its large LLVM library)
      // before the measured storm, not during it.
      awaitIdle(agent.pid());
      PrometheusScrape before = PrometheusScrape.fetch(http, port);
      // Rendering the page, and the compilations it queues, is ours too: let them end first.
      awaitIdle(agent.pid());
      Map<Long, AgentThreads.ThreadTicks> threads0 = AgentThreads.sample(agent.pid());
      long ticks0 = cpuTicks(agent.pid());
      StormCounts c = storm(driver, children, seconds, level);
      awaitIdle(agent.pid());
      // CPU before the scrapes: rendering the metrics page costs the agent ~0.1 s each, and is
      // ours.
      long ticks1 = cpuTicks(agent.pid());
      AgentThreads.CpuSplit split =
          AgentThreads.split(
              threads0, AgentThreads.sample(agent.pid()), ticks1 - ticks0, clockTicks);
      PrometheusScrape after = drain();
      ExecOracle.Counts counts = stopOracle(o);
      long hwm;
      String calm = run(runCalm(driver, calmChildren));
      long calmOk =
          Long.parseLong(
              calm.strip().substring(calm.strip().lastIndexOf('\n') + 1).split("\\s+")[1]);
      // The collections up to here fell into the calm execs (or the one scrape before them); the
      // drain's scrapes below allocate enough to cause some of their own.
      PrometheusScrape calmEnd = PrometheusScrape.fetch(http, port);
      PrometheusScrape calmAfter = drain();
      double maxMs = calmAfter.sum(LATENCY + "_max") * 1000;
      NewBinaries fresh = newBinaries(index, agent.pid());
      hwm = peakRssKiB(agent.pid());
      stop(agent);
      double offAfter = offAfter(index, level, driver, children);
      double cpu = (ticks1 - ticks0) / (double) clockTicks;
      // An exec the probe filtered (a verified executable with nothing to report) is seen too: it
      // was counted in the kernel instead of sent.
      long filtered =
          delta(before, after, "veriruntime_events_filtered_total", "kind", "ExecEvent");
      long seen =
          delta(before, after, "veriruntime_events_in_total", "kind", "ExecEvent") + filtered;
      long lostExec = delta(before, after, "veriruntime_events_lost_total", "kind", "exec");
      long performed = c.ok() + c.failed() + binaries; // each driver is one exec as well
      LatencyHistogram storm = PrometheusScrape.histogramDelta(before, after, LATENCY);
      LatencyHistogram calmHistogram = PrometheusScrape.histogramDelta(after, calmAfter, LATENCY);
      AgentRound a =
          new AgentRound(
              cpu,
              c.ok() == 0 ? Double.NaN : cpu / (c.ok() / 1000.0),
              hwm,
              seen,
              filtered,
              delta(before, after, "veriruntime_events_lost_total", null, null),
              lostExec,
              delta(before, after, "veriruntime_events_dropped_total", null, null),
              lostInDegradedReports(stdout),
              Math.max(0, performed - seen - lostExec),
              delta(before, after, LATENCY + "_count", null, null),
              quantileMs(storm, 0.5, maxMs),
              quantileMs(storm, 0.99, maxMs),
              quantileMs(storm, 0.999, maxMs),
              maxMs,
              delta(before, after, "veriruntime_cache_lookups_total", "result", "hit"),
              delta(before, after, "veriruntime_cache_lookups_total", "result", "miss"),
              calmOk,
              calmHistogram.total(),
              quantileMs(calmHistogram, 0.5, maxMs),
              quantileMs(calmHistogram, 0.99, maxMs),
              quantileMs(calmHistogram, 0.999, maxMs),
              delta(after, calmEnd, GC_PAUSE + "_count", "action", MINOR_GC),
              gained(after, calmEnd, GC_PAUSE + "_sum", "action", MINOR_GC) * 1000,
              fresh.ok(),
              fresh.histogram().total(),
              fresh.cacheMisses(),
              quantileMs(fresh.histogram(), 0.5, fresh.maxMs()),
              quantileMs(fresh.histogram(), 0.99, fresh.maxMs()),
              quantileMs(fresh.histogram(), 0.999, fresh.maxMs()),
              fresh.youngCollections(),
              fresh.youngPauseMs(),
              storm,
              calmHistogram,
              fresh.histogram(),
              warmupCpuPer1000,
              warmup,
              split);
      Round r =
          new Round(
              index,
              config,
              level,
              true,
              c.ok(),
              c.failed(),
              c.late(),
              c.due(),
              seconds,
              c.ok() / seconds,
              a,
              null,
              counts,
              offAfter);
      log(
          String.format(
              Locale.ROOT,
              "  %d execs, %.0f exec/s, agent %.2f CPU s (%.2f per 1k execs), peak RSS %d MiB,"
                  + " %d exec events seen (%d counted in the kernel), %d lost (%d exec),"
                  + " p50/p99/p999 %s ms (%d verdicts); calm p50/p99/p999 %s;"
                  + " %d new binaries p50/p99/p999 %s (%d verdicts)%s; CPU by thread: %s",
              c.ok(),
              r.execsPerSecond,
              cpu,
              a.cpuSecondsPer1000Execs,
              hwm / 1024,
              seen,
              filtered,
              a.lostKernel,
              lostExec,
              ExecStormReport.ms3(a.p50Ms, a.p99Ms, a.p999Ms),
              a.latencyCount,
              ExecStormReport.calmCell(a),
              a.newBinaries,
              ExecStormReport.newCell(a),
              a.newLatencyCount,
              oracleLog(counts),
              ExecStormReport.splitLabel(split, cpu)));
      return r;
    } catch (IOException | RuntimeException e) {
      // The agent's stderr is in the run's temp directory, which goes with the run: show why.
      log(
          "round "
              + index
              + " failed; the agent "
              + (agent.isAlive() ? "is still running" : "exited with " + agent.exitValue())
              + "; its last stderr lines:\n"
              + tail(stderr));
      throw e;
    } finally {
      if (o != null) {
        o.close();
      }
      if (agent.isAlive()) {
        agent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * The warm-up storm at the round's level, in slices: at least {@code --agent-warmup} seconds,
   * then until the JIT compiler threads used less than {@code --agent-warmup-jit-percent} of a core
   * over the last slice ({@link AgentThreads#warmupStep}), at most {@code --agent-warmup-max}. Logs
   * one line per slice.
   *
   * <p>Each slice starts as the measured storm does, on an idle agent: a storm after a pause is not
   * the middle of one (the agent reports the first execs of each unknown binary in full until it
   * saw one of them end, then counts them), and code that only such a start runs must be compiled
   * here, not in the measured window.
   */
  private Warmup warmUp(long pid, Path driver, List<Path> children, double level)
      throws IOException, InterruptedException {
    if (agentWarmup <= 0) {
      return Warmup.none();
    }
    long w0 = cpuTicks(pid);
    double elapsed = 0;
    long execs = 0;
    int slices = 0;
    double jitPercent = Double.NaN;
    AgentThreads.WarmupStep step = AgentThreads.WarmupStep.CONTINUE;
    while (step == AgentThreads.WarmupStep.CONTINUE) {
      double slice = AgentThreads.nextSlice(elapsed, agentWarmupSlice, agentWarmup, agentWarmupMax);
      awaitIdle(pid);
      Map<Long, AgentThreads.ThreadTicks> t0 = AgentThreads.sample(pid);
      long p0 = cpuTicks(pid);
      long n0 = System.nanoTime();
      StormCounts s = storm(driver, children, slice, level);
      double wall = (System.nanoTime() - n0) / 1e9;
      double jit = AgentThreads.jitSeconds(t0, AgentThreads.sample(pid), clockTicks);
      double agentCpu = (cpuTicks(pid) - p0) / (double) clockTicks;
      elapsed += slice;
      execs += s.ok();
      slices++;
      jitPercent = 100 * jit / wall;
      step =
          AgentThreads.warmupStep(
              elapsed, jitPercent, agentWarmup, agentWarmupMax, agentWarmupJitPercent);
      // The measured round scrapes the metrics page: its rendering is compiled here, not there.
      PrometheusScrape.fetch(http, port);
      log(
          String.format(
              Locale.ROOT,
              "  warm-up slice %d: %.0f s (%.0f in all), %d execs, agent %.0f %% of a core,"
                  + " JIT %.2f CPU s (%.2f %% of a core)%s",
              slices,
              slice,
              elapsed,
              s.ok(),
              100 * agentCpu / wall,
              jit,
              jitPercent,
              step == AgentThreads.WarmupStep.CONTINUE ? "" : ": " + step.name().toLowerCase()));
    }
    awaitIdle(pid);
    double cpuPer1000 =
        execs == 0 ? Double.NaN : (cpuTicks(pid) - w0) / (double) clockTicks / (execs / 1000.0);
    drain();
    boolean settled = step == AgentThreads.WarmupStep.SETTLED;
    log(
        String.format(
            Locale.ROOT,
            "  warm-up storm %.0f s (not recorded, %s): %d execs, agent %.3f CPU s per 1k execs",
            elapsed,
            settled ? "JIT settled" : "capped, JIT not settled",
            execs,
            cpuPer1000));
    return new Warmup(elapsed, execs, slices, settled, jitPercent, cpuPer1000);
  }

  /** What the new binaries of one round gave: how many ran, their latency histogram. */
  private record NewBinaries(
      long ok,
      long cacheMisses,
      LatencyHistogram histogram,
      double maxMs,
      long youngCollections,
      double youngPauseMs) {}

  /**
   * Writes {@code newBinaries} distinct executables of {@code newBinaryKiB} (none of them seen by
   * the agent before), waits until the agent is idle, then runs each once, {@code newBinaryGap}
   * apart, and reads the latency histogram's delta over that window.
   */
  private NewBinaries newBinaries(int index, long agentPid)
      throws IOException, InterruptedException {
    if (newBinaries == 0) {
      return new NewBinaries(0, 0, LatencyHistogram.empty(), Double.NaN, 0, 0);
    }
    Path dir = work.resolve("new-" + index);
    Files.createDirectories(dir);
    String first = Long.toString(newBinaryNext);
    newBinaryNext += newBinaries;
    try {
      run(
          List.of(
              uniqueDriver.toString(),
              "make",
              newBinaryBase.toString(),
              dir.toString(),
              first,
              Integer.toString(newBinaries)));
      awaitIdle(agentPid);
      PrometheusScrape before = drain();
      String done =
          run(List.of(
                  uniqueDriver.toString(),
                  "run",
                  dir.toString(),
                  first,
                  Integer.toString(newBinaries),
                  "1",
                  Double.toString(newBinaryGap)))
              .strip();
      if (!done.startsWith("done ")) {
        throw new IllegalStateException("unique_driver failed: " + done);
      }
      long ok = Long.parseLong(done.split("\\s+")[1]);
      // As for the calm execs: the drain's scrapes allocate enough to cause collections of their
      // own, so the window's collections are those up to one scrape right after the last binary.
      PrometheusScrape end = PrometheusScrape.fetch(http, port);
      PrometheusScrape after = drain();
      LatencyHistogram h = PrometheusScrape.histogramDelta(before, after, LATENCY);
      return new NewBinaries(
          ok,
          delta(before, after, "veriruntime_cache_lookups_total", "result", "miss"),
          h,
          after.sum(LATENCY + "_max") * 1000,
          delta(before, end, GC_PAUSE + "_count", "action", MINOR_GC),
          gained(before, end, GC_PAUSE + "_sum", "action", MINOR_GC) * 1000);
    } finally {
      deleteTree(dir);
    }
  }

  /**
   * In {@code --agent-args}: the storm's driver and children are trusted through a reference
   * statement signed for this run (as a build server trusts its compilers), so their execs are
   * VERIFIED rather than UNKNOWN.
   */
  static final String TRUSTED_CHILDREN = "@trusted-children";

  private List<String> trustedArguments;

  /** Signs the driver and the children once per run with a fresh key (refs keygen, refs sign). */
  private List<String> trustedChildren(Path driver, List<Path> children)
      throws IOException, InterruptedException {
    if (trustedArguments == null) {
      Path key = work.resolve("trust");
      Path refs = work.resolve("children.refs.json");
      run(
          List.of(
              agentLauncher.toString(),
              "refs",
              "keygen",
              "--type",
              "ed25519",
              "--out",
              key.toString()));
      List<String> sign =
          new ArrayList<>(
              List.of(
                  agentLauncher.toString(),
                  "refs",
                  "sign",
                  "--key",
                  key + ".key",
                  "--out",
                  refs.toString(),
                  "--subject",
                  driver.toString()));
      for (Path child : children) {
        sign.add("--subject");
        sign.add(child.toString());
      }
      run(sign);
      trustedArguments = List.of("--refs", refs.toString(), "--trusted-key", key + ".pub");
    }
    return trustedArguments;
  }

  static List<String> agentArguments(String config) {
    String c = config.strip();
    return c.isEmpty() || c.equals(DEFAULTS) ? List.of() : List.of(c.split("\\s+"));
  }

  /**
   * Waits (60 scrapes) until the agent's verdict count stops moving: with the start-up scan on, the
   * agent hashes every running binary first, and that work belongs to no storm.
   */
  private void awaitQuiet() throws IOException, InterruptedException {
    double previous = -1;
    for (int i = 0, still = 0; i < 60 && still < 2; i++) {
      double verdicts;
      try {
        verdicts = PrometheusScrape.fetch(http, port).sum("veriruntime_verdicts_total");
      } catch (java.net.http.HttpTimeoutException busy) {
        // A fresh agent on a loaded host, still scanning: not quiet yet.
        still = 0;
        previous = -1;
        continue;
      }
      still = verdicts == previous ? still + 1 : 0;
      previous = verdicts;
      Thread.sleep(500);
    }
  }

  private List<String> withDirectory(String command) {
    List<String> c = new ArrayList<>(List.of(command.strip().split("\\s+")));
    c.add(work.toString());
    return c;
  }

  private Round peerRound(int index, double level, Path driver, List<Path> children)
      throws Exception {
    double seconds = windowSeconds(level);
    log(
        "round "
            + index
            + ": peer on ("
            + peerCommand
            + "), storm "
            + seconds
            + " s at "
            + RatePlan.label(level));
    Path output = work.resolve("peer-" + index + ".log");
    Process peer =
        new ProcessBuilder(peerCommand.strip().split("\\s+")).redirectErrorStream(true).start();
    try {
      awaitLine(peer, output, peerReady, true);
      Thread.sleep(Math.round(settle * 1000));
      long ticks0 = cpuTicks(peer.pid());
      Counted counted = countedStorm(driver, children, level, Integer.toString(index));
      StormCounts c = counted.storm();
      long ticks1 = cpuTicks(peer.pid());
      long hwm = peakRssKiB(peer.pid());
      stop(peer);
      double offAfter = offAfter(index, level, driver, children);
      double cpu = (ticks1 - ticks0) / (double) clockTicks;
      PeerRound pr =
          new PeerRound(peerCommand, cpu, c.ok() == 0 ? Double.NaN : cpu / (c.ok() / 1000.0), hwm);
      Round r =
          new Round(
              index,
              "peer",
              level,
              false,
              c.ok(),
              c.failed(),
              c.late(),
              c.due(),
              seconds,
              c.ok() / seconds,
              null,
              pr,
              counted.oracle(),
              offAfter);
      log(
          String.format(
              Locale.ROOT,
              "  %d execs, %.0f exec/s, peer %.2f CPU s (%.3f per 1k execs), peak RSS %d MiB%s",
              c.ok(),
              r.execsPerSecond,
              cpu,
              pr.cpuSecondsPer1000Execs,
              hwm / 1024,
              oracleLog(counted.oracle())));
      return r;
    } finally {
      if (peer.isAlive()) {
        peer.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  private void awaitWatching(Process agent, Path stderrCopy)
      throws InterruptedException, IOException {
    awaitLine(agent, stderrCopy, WATCHING, false);
  }

  /**
   * Copies the process's diagnostics (stderr, or the merged output of a peer) to a file, for as
   * long as it runs, so that its pipe never fills; returns once a line contains {@code ready}.
   */
  private void awaitLine(Process agent, Path stderrCopy, String ready, boolean merged)
      throws InterruptedException, IOException {
    CountDownLatch watching = new CountDownLatch(1);
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                      new BufferedReader(
                          new InputStreamReader(
                              // a peer runs with stderr merged into stdout; the agent keeps stdout
                              // for its events
                              merged ? agent.getInputStream() : agent.getErrorStream(),
                              StandardCharsets.UTF_8));
                  PrintWriter copy = new PrintWriter(Files.newBufferedWriter(stderrCopy))) {
                String line;
                while ((line = in.readLine()) != null) {
                  copy.println(line);
                  copy.flush();
                  if (line.contains(ready)) {
                    watching.countDown();
                  }
                }
              } catch (IOException closed) {
                // Process closes the pipe once the process has exited: the copy ends there
              }
            },
            "agent-stderr");
    reader.setDaemon(true);
    reader.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    while (!watching.await(200, TimeUnit.MILLISECONDS)) {
      if (!agent.isAlive() || System.nanoTime() > deadline) {
        agent.destroyForcibly();
        reader.join(2000);
        throw new IllegalStateException(
            "no '"
                + ready
                + "' line (exit "
                + (agent.isAlive() ? "none" : agent.exitValue())
                + "): "
                + tail(stderrCopy));
      }
    }
  }

  /**
   * Waits until the agent's verdict count stops moving (two scrapes 250 ms apart agree) or ten
   * seconds pass, so that the counters and the CPU time include all the work the storm caused.
   */
  private PrometheusScrape drain() throws IOException, InterruptedException {
    PrometheusScrape last = PrometheusScrape.fetch(http, port);
    double previous = -1;
    int still = 0;
    for (int i = 0; i < 40 && still < 2; i++) {
      double latencies = last.sum(LATENCY + "_count");
      still = latencies == previous ? still + 1 : 0;
      previous = latencies;
      Thread.sleep(250);
      last = PrometheusScrape.fetch(http, port);
    }
    return last;
  }

  /**
   * Waits (at most 20 s) until the agent uses at most 4 % of a core over half a second: the storm's
   * backlog is processed and nothing else is being verified.
   */
  private void awaitIdle(long pid) throws IOException, InterruptedException {
    long previous = cpuTicks(pid);
    for (int i = 0; i < 40; i++) {
      Thread.sleep(500);
      long now = cpuTicks(pid);
      if (now - previous <= Math.max(1, clockTicks / 50)) {
        return;
      }
      previous = now;
    }
  }

  private static void stop(Process agent) throws InterruptedException {
    agent.destroy(); // SIGTERM: the agent detaches the probe and flushes its sinks
    if (!agent.waitFor(30, TimeUnit.SECONDS)) {
      agent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  /**
   * utime + stime of all the process's threads, in clock ticks ({@code proc(5)}, fields 14 and 15).
   */
  static long cpuTicks(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  static long peakRssKiB(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.substring(6).strip().split("\\s+")[0]);
      }
    }
    throw new IOException("no VmHWM in /proc/" + pid + "/status");
  }

  /**
   * Sum of {@code details.lost["kernel.*"]} over the VERIFICATION_DEGRADED lines of the agent's
   * stdout.
   */
  private long lostInDegradedReports(Path stdout) throws IOException {
    long lost = 0;
    try (Stream<String> lines = Files.lines(stdout)) {
      for (String line : (Iterable<String>) lines::iterator) {
        if (!line.contains("VERIFICATION_DEGRADED")) {
          continue;
        }
        JsonNode event;
        try {
          event = json.readTree(line);
        } catch (IOException notJson) {
          continue;
        }
        JsonNode details = event.path("details").path("lost");
        for (Map.Entry<String, JsonNode> e :
            (Iterable<Map.Entry<String, JsonNode>>) details::fields) {
          if (e.getKey().startsWith("kernel.")) {
            lost += e.getValue().asLong();
          }
        }
      }
    }
    return lost;
  }

  /**
   * From the histogram buckets' deltas between two scrapes (the agent exports no client-side
   * percentiles), capped by the observed maximum since interpolation inside the top bucket can
   * overshoot it.
   */
  private static double quantileMs(LatencyHistogram h, double q, double maxMs) {
    return Math.min(h.quantileSeconds(q) * 1000, maxMs);
  }

  private Sha sha256() throws Exception {
    log("SHA-256: openssl speed -seconds 3 -evp sha256");
    double openssl =
        opensslSpeed16k(run(List.of("openssl", "speed", "-seconds", "3", "-evp", "sha256")));
    log("SHA-256: JDK MessageDigest, 16 KiB blocks, 3 s");
    double blocks = jdkBlocks(3);
    log("SHA-256: Sha256.digest on a " + shaMiB + " MiB file, best of 3");
    Path file = work.resolve("sha256.bin");
    Sha256VsOpenssl.fill(file, (long) shaMiB << 20, new Random(42));
    double best = Double.MAX_VALUE;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      Sha256.digest(ch); // page cache and JIT
      for (int r = 0; r < 3; r++) {
        long t0 = System.nanoTime();
        Sha256.digest(ch);
        best = Math.min(best, (System.nanoTime() - t0) / 1e9);
      }
    }
    Files.delete(file);
    double fileGBps = ((long) shaMiB << 20) / 1e9 / best;
    return new Sha(
        openssl / 1e9, blocks / 1e9, fileGBps, shaMiB, blocks / openssl, fileGBps * 1e9 / openssl);
  }

  /**
   * Bytes/s in the 16384-byte column of {@code openssl speed} output ("1506235.73k" = 1000s of
   * bytes/s).
   */
  static double opensslSpeed16k(String output) {
    List<String> header = null;
    for (String line : output.split("\n")) {
      List<String> t = List.of(line.strip().split("\\s+"));
      if (!t.isEmpty() && t.get(0).equals("type")) {
        header = t;
      } else if (header != null && !t.isEmpty() && t.get(0).startsWith("sha256")) {
        int column =
            1
                + (header.subList(1, header.size()).indexOf("16384")
                    / 2); // "16384 bytes" is two tokens
        if (header.indexOf("16384") < 0 || column >= t.size()) {
          break;
        }
        return Double.parseDouble(t.get(column).replace("k", "")) * 1000;
      }
    }
    throw new IllegalStateException(
        "no 16384-byte sha256 column in openssl speed output:\n" + output);
  }

  /**
   * Bytes/s of MessageDigest over one 16 KiB block, for the same shape of work as openssl speed.
   */
  private static double jdkBlocks(double secs) {
    byte[] block = new byte[16384];
    new Random(7).nextBytes(block);
    MessageDigest md = Sha256.newDigest();
    byte[] sink = new byte[32];
    long warmEnd = System.nanoTime() + 1_000_000_000L;
    while (System.nanoTime() < warmEnd) {
      md.update(block);
      sink = md.digest();
    }
    long n = 0;
    long t0 = System.nanoTime();
    long end = t0 + (long) (secs * 1e9);
    long now;
    do {
      md.update(block);
      sink = md.digest();
      n++;
    } while ((now = System.nanoTime()) < end);
    if (sink[0] == 42 && sink[1] == 42 && sink[2] == 42) {
      System.err.print(""); // keeps the digest alive for the JIT
    }
    return n * (double) block.length / ((now - t0) / 1e9);
  }

  static Map<String, Object> machine() throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("nproc", Runtime.getRuntime().availableProcessors());
    m.put(
        "model",
        Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
            .filter(l -> l.startsWith("model name"))
            .map(l -> l.substring(l.indexOf(':') + 1).strip())
            .findFirst()
            .orElse("unknown"));
    m.put("kernel", Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip());
    m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    m.put("loadavgStart", loadAverage());
    return m;
  }

  /** The 1, 5 and 15 minute load averages. */
  static String loadAverage() throws IOException {
    String[] f = Files.readString(Path.of("/proc/loadavg")).strip().split(" ");
    return f[0] + " " + f[1] + " " + f[2];
  }

  private void write(
      Instant started,
      Map<String, Object> machine,
      List<Double> levels,
      String oracleNote,
      List<Round> rounds,
      List<Round> peerRounds,
      Sha sha)
      throws IOException {
    Files.createDirectories(out);
    List<Summary> summaries = new ArrayList<>();
    for (String config : agentConfigs) {
      summaries.add(
          Summary.of(config, rounds.stream().filter(r -> r.config().equals(config)).toList(), sha));
    }
    List<LevelSummary> byLevel = new ArrayList<>(LevelSummary.of(rounds));
    byLevel.addAll(LevelSummary.of(peerRounds));
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("started", started.toString());
    doc.put("command", command());
    doc.put("machine", machine);
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("seconds", seconds);
    settings.put("rateSeconds", rateSeconds == 0 ? seconds : rateSeconds);
    settings.put("agentWarmupMinSeconds", agentWarmup);
    settings.put("agentWarmupMaxSeconds", agentWarmupMax);
    settings.put("agentWarmupSliceSeconds", agentWarmupSlice);
    settings.put("agentWarmupJitPercent", agentWarmupJitPercent);
    settings.put("pairs", pairs);
    settings.put("binaries", binaries);
    settings.put("workersPerBinary", workers);
    settings.put("settleSeconds", settle);
    settings.put("calmExecs", calmExecs);
    settings.put("calmGapMs", calmGapMs);
    settings.put("newBinaries", newBinaries);
    settings.put("newBinaryKiB", newBinaryKiB);
    settings.put("newBinaryGapSeconds", newBinaryGap);
    settings.put("levels", levels.stream().map(RatePlan::label).toList());
    settings.put("agentConfigs", agentConfigs);
    settings.put("oracle", oracleNote);
    doc.put("settings", settings);
    doc.put("rounds", rounds);
    if (!peerRounds.isEmpty()) {
      doc.put("peerRounds", peerRounds);
    }
    doc.put("sha256", sha);
    doc.put("summaries", summaries);
    doc.put("byLevel", byLevel);
    json.writeValue(out.resolve("exec-storm.json").toFile(), doc);
    List<String> plots = List.of();
    try {
      plots = ExecStormPlots.write(out, rounds, peerRounds, peerName(peerCommand));
    } catch (IOException | RuntimeException | Error e) {
      // No fonts or no Java2D on this machine: the numbers are written all the same.
      log("plots not written: " + e);
    }
    ExecStormReport.Run run =
        new ExecStormReport.Run(
            started,
            command(),
            machine,
            settings,
            rounds,
            peerRounds,
            sha,
            summaries,
            byLevel,
            plots);
    Files.writeString(out.resolve("exec-storm.md"), ExecStormReport.markdown(run));
    log(
        "wrote "
            + out.resolve("exec-storm.json")
            + ", "
            + out.resolve("exec-storm.md")
            + (plots.isEmpty() ? "" : " and " + plots));
    if (readme != null) {
      if (!Files.isRegularFile(readme)) {
        log("no " + readme + ": README section not written");
      } else {
        String text = Files.readString(readme);
        String relative =
            readme.toAbsolutePath().getParent().relativize(out.toAbsolutePath()).toString();
        java.util.Optional<String> updated =
            ExecStormReport.replaceReadmeSection(
                text, ExecStormReport.readmeSection(run, relative.isEmpty() ? "." : relative));
        if (updated.isPresent()) {
          Files.writeString(readme, updated.get());
          log("updated the exec-storm section of " + readme);
        } else {
          log(
              readme
                  + " has no "
                  + ExecStormReport.README_BEGIN
                  + " ... "
                  + ExecStormReport.README_END
                  + " markers: not updated");
        }
      }
    }
  }

  /**
   * The peer's program for a legend: the first word of its command that is neither a wrapper nor an
   * option.
   */
  static String peerName(String command) {
    if (command == null) {
      return "";
    }
    for (String word : command.strip().split("\\s+")) {
      String name = Path.of(word).getFileName().toString();
      if (!word.startsWith("-")
          && !List.of("stdbuf", "env", "nice", "taskset", "sudo").contains(name)) {
        return name;
      }
    }
    return command.strip();
  }

  private String command() {
    return commandLine != null
        ? commandLine
        : "java -cp benchmarks/target/benchmarks.jar dev.veriruntime.benchmarks.ExecStorm --seconds "
            + seconds
            + " --pairs "
            + pairs
            + " --binaries "
            + binaries;
  }

  /** On ÷ off exec/s of each consecutive (off, on) pair ({@link #ratio}). */
  static List<Double> pairRatios(List<Round> rounds) {
    List<Double> ratios = new ArrayList<>();
    for (int i = 0; i + 1 < rounds.size(); i += 2) {
      ratios.add(ratio(rounds.get(i), rounds.get(i + 1)));
    }
    return ratios;
  }

  /**
   * On ÷ off exec/s of one pair; off is the mean of the off round and the off storm right after the
   * on round when there was one ({@link Round#offAfterExecsPerSecond}).
   */
  static double ratio(Round off, Round on) {
    double offRate = off.execsPerSecond();
    if (!Double.isNaN(on.offAfterExecsPerSecond())) {
      offRate = (offRate + on.offAfterExecsPerSecond()) / 2;
    }
    return on.execsPerSecond() / offRate;
  }

  /**
   * One configuration (or the peer) at one load level: the pairs' ratios, the on rounds' medians
   * and worst cases. Latency fields are NaN for the peer, and when no round had any (the storm's
   * latency only over rounds where it applies: {@link AgentRound#stormLatencyApplies()}).
   */
  record LevelSummary(
      String config,
      double targetRate,
      List<Double> throughputRatios,
      double throughputRatioMedian,
      double execsPerSecondOnMedian,
      long late,
      long due,
      double cpuSecondsPer1000ExecsMedian,
      double cpuPercentOfCoreMedian,
      double peakRssMiB,
      long execEventsSeen,
      long execsFilteredInKernel,
      double p50MsWorst,
      double p99MsWorst,
      double p999MsWorst,
      double calmP99MsWorst,
      double newP99MsWorst,
      AgentThreads.CpuSplit cpuSplitSum,
      int warmups,
      int warmupsSettled,
      double warmupSecondsMin,
      double warmupSecondsMax) {

    /**
     * One summary per (configuration, level), in the order the rounds ran; rounds come in (off, on)
     * pairs.
     */
    static List<LevelSummary> of(List<Round> rounds) {
      Map<String, List<Round>> groups = new LinkedHashMap<>();
      for (int i = 0; i + 1 < rounds.size(); i += 2) {
        Round on = rounds.get(i + 1);
        groups
            .computeIfAbsent(on.config() + '\0' + on.targetRate(), k -> new ArrayList<>())
            .addAll(List.of(rounds.get(i), on));
      }
      List<LevelSummary> out = new ArrayList<>();
      for (List<Round> g : groups.values()) {
        Round first = g.get(1);
        List<Round> on =
            g.stream().filter(r -> r.agentRound() != null || r.peerRound() != null).toList();
        List<Double> ratios = pairRatios(g);
        java.util.function.ToDoubleFunction<Round> cpu =
            r ->
                r.agentRound() != null
                    ? r.agentRound().cpuSecondsPer1000Execs()
                    : r.peerRound().cpuSecondsPer1000Execs();
        java.util.function.ToDoubleFunction<Round> cpuSeconds =
            r -> r.agentRound() != null ? r.agentRound().cpuSeconds() : r.peerRound().cpuSeconds();
        java.util.function.ToLongFunction<Round> rss =
            r -> r.agentRound() != null ? r.agentRound().peakRssKiB() : r.peerRound().peakRssKiB();
        List<AgentRound> agent =
            on.stream().map(Round::agentRound).filter(java.util.Objects::nonNull).toList();
        List<AgentRound> withStormLatency =
            agent.stream().filter(AgentRound::stormLatencyApplies).toList();
        out.add(
            new LevelSummary(
                first.config(),
                first.targetRate(),
                ratios,
                Summary.median(ratios),
                Summary.median(on.stream().map(Round::execsPerSecond).toList()),
                on.stream().mapToLong(Round::late).sum(),
                on.stream().mapToLong(Round::due).sum(),
                Summary.median(on.stream().map(r -> cpu.applyAsDouble(r)).toList()),
                Summary.median(
                    on.stream().map(r -> 100 * cpuSeconds.applyAsDouble(r) / r.seconds()).toList()),
                on.stream().mapToLong(rss).max().orElse(0) / 1024.0,
                agent.stream().mapToLong(AgentRound::execEventsSeen).sum(),
                agent.stream().mapToLong(AgentRound::execsFilteredInKernel).sum(),
                Summary.worst(withStormLatency, AgentRound::p50Ms),
                Summary.worst(withStormLatency, AgentRound::p99Ms),
                Summary.worst(withStormLatency, AgentRound::p999Ms),
                Summary.worst(agent, AgentRound::calmP99Ms),
                Summary.worst(agent, AgentRound::newP99Ms),
                AgentThreads.sum(
                    agent.stream()
                        .map(AgentRound::cpuSplit)
                        .filter(java.util.Objects::nonNull)
                        .toList()),
                (int)
                    agent.stream()
                        .filter(a -> a.warmup() != null && a.warmup().slices() > 0)
                        .count(),
                (int)
                    agent.stream().filter(a -> a.warmup() != null && a.warmup().settled()).count(),
                agent.stream()
                    .filter(a -> a.warmup() != null && a.warmup().slices() > 0)
                    .mapToDouble(a -> a.warmup().seconds())
                    .min()
                    .orElse(Double.NaN),
                agent.stream()
                    .filter(a -> a.warmup() != null && a.warmup().slices() > 0)
                    .mapToDouble(a -> a.warmup().seconds())
                    .max()
                    .orElse(Double.NaN)));
      }
      return out;
    }
  }

  /**
   * What the report compares with issue 17's targets, for one agent configuration: throughput from
   * the pairs at {@code max} (NaN when max was not run); CPU per 1,000 exec/s from the median of
   * the on rounds at max and at {@link #TARGET_FIXED_RATE} (NaN when that level was not run); the
   * storm's latency at max over the rounds where it applies ({@code stormRoundsWithoutVerdicts}
   * counts the others, whose execs were counted in the kernel); calm, new-binary latency, RSS and
   * loss over every on round. {@code unaccountedVsOracle} and {@code oracleStormMismatch} (how far
   * bpftrace's count of the children's execs is from the drivers' count, summed over on rounds) are
   * -1 when a round had no oracle.
   */
  record Summary(
      String config,
      double throughputRatioMedian,
      List<Double> throughputRatios,
      double cpuPercentAtMax,
      double cpuPercentAtFixedRate,
      double peakRssMiB,
      long execsPerformedOn,
      long lostExec,
      long lostAllKinds,
      long unaccountedAtLeast,
      double lossFraction,
      long oracleStormExecsOn,
      long oracleAllExecsOn,
      long execEventsSeenOn,
      long unaccountedVsOracle,
      long oracleStormMismatch,
      long driverExecsOn,
      int stormRoundsAtMax,
      int stormRoundsWithoutVerdicts,
      long stormExecsSeenAtMax,
      long stormExecsFilteredAtMax,
      double stormP50MsWorst,
      double stormP99MsWorst,
      double stormP999MsWorst,
      long calmLatencyCount,
      double calmP50MsWorst,
      double calmP99MsWorst,
      double calmP999MsWorst,
      long newBinariesRun,
      long newLatencyCount,
      double newP50MsWorst,
      double newP99MsWorst,
      double newP999MsWorst,
      double shaRatioBlocks,
      double shaRatioFile) {

    /** {@code rounds}: this configuration's (off, on) pairs. */
    static Summary of(String config, List<Round> rounds, Sha sha) {
      List<LevelSummary> levels = LevelSummary.of(rounds);
      java.util.Optional<LevelSummary> max =
          levels.stream().filter(l -> l.targetRate() == RatePlan.MAX).findFirst();
      java.util.Optional<LevelSummary> fixed =
          levels.stream().filter(l -> l.targetRate() == TARGET_FIXED_RATE).findFirst();
      List<Round> onRounds = rounds.stream().filter(Round::agent).toList();
      List<AgentRound> on = onRounds.stream().map(Round::agentRound).toList();
      List<AgentRound> atMax =
          onRounds.stream()
              .filter(r -> r.targetRate() == RatePlan.MAX)
              .map(Round::agentRound)
              .toList();
      List<AgentRound> atMaxWithLatency =
          atMax.stream().filter(AgentRound::stormLatencyApplies).toList();
      long performed = onRounds.stream().mapToLong(Round::execs).sum();
      long lostExec = on.stream().mapToLong(AgentRound::lostKernelExec).sum();
      long lost = on.stream().mapToLong(a -> Math.max(a.lostKernel, a.lostInDegradedReports)).sum();
      boolean oracle = !onRounds.isEmpty() && onRounds.stream().allMatch(r -> r.oracle() != null);
      long unaccountedVsOracle =
          oracle
              ? onRounds.stream()
                  .mapToLong(
                      r ->
                          Math.max(
                              0,
                              r.oracle().allExecs()
                                  - r.agentRound().execEventsSeen()
                                  - r.agentRound().lostKernelExec()))
                  .sum()
              : -1;
      // The oracle checks itself: its count of the children's execs must equal the drivers' count.
      long mismatch =
          oracle
              ? onRounds.stream()
                  .mapToLong(r -> Math.abs(r.oracle().stormExecs() - r.execs() - r.failed()))
                  .sum()
              : -1;
      return new Summary(
          config,
          max.map(LevelSummary::throughputRatioMedian).orElse(Double.NaN),
          max.map(LevelSummary::throughputRatios).orElse(List.of()),
          max.map(l -> 100 * l.cpuSecondsPer1000ExecsMedian()).orElse(Double.NaN),
          fixed.map(l -> 100 * l.cpuSecondsPer1000ExecsMedian()).orElse(Double.NaN),
          on.stream().mapToLong(AgentRound::peakRssKiB).max().orElse(0) / 1024.0,
          performed,
          lostExec,
          lost,
          on.stream().mapToLong(AgentRound::unaccountedAtLeast).sum(),
          performed == 0 ? 0 : lostExec / (double) performed,
          oracle ? onRounds.stream().mapToLong(r -> r.oracle().stormExecs()).sum() : -1,
          oracle ? onRounds.stream().mapToLong(r -> r.oracle().allExecs()).sum() : -1,
          on.stream().mapToLong(AgentRound::execEventsSeen).sum(),
          unaccountedVsOracle,
          mismatch,
          onRounds.stream().mapToLong(r -> r.execs() + r.failed()).sum(),
          atMax.size(),
          atMax.size() - atMaxWithLatency.size(),
          atMax.stream().mapToLong(AgentRound::execEventsSeen).sum(),
          atMax.stream().mapToLong(AgentRound::execsFilteredInKernel).sum(),
          worst(atMaxWithLatency, AgentRound::p50Ms),
          worst(atMaxWithLatency, AgentRound::p99Ms),
          worst(atMaxWithLatency, AgentRound::p999Ms),
          on.stream().mapToLong(AgentRound::calmLatencyCount).sum(),
          worst(on, AgentRound::calmP50Ms),
          worst(on, AgentRound::calmP99Ms),
          worst(on, AgentRound::calmP999Ms),
          on.stream().mapToLong(AgentRound::newBinaries).sum(),
          on.stream().mapToLong(AgentRound::newLatencyCount).sum(),
          worst(on, AgentRound::newP50Ms),
          worst(on, AgentRound::newP99Ms),
          worst(on, AgentRound::newP999Ms),
          sha.ratioBlocks,
          sha.ratioFile);
    }

    /** The largest value over the rounds that have one; NaN when none has. */
    static double worst(List<AgentRound> on, java.util.function.ToDoubleFunction<AgentRound> f) {
      return on.stream().mapToDouble(f).filter(v -> !Double.isNaN(v)).max().orElse(Double.NaN);
    }

    static double median(List<Double> xs) {
      List<Double> s = xs.stream().sorted(Comparator.naturalOrder()).toList();
      if (s.isEmpty()) {
        return Double.NaN;
      }
      int m = s.size() / 2;
      return s.size() % 2 == 1 ? s.get(m) : (s.get(m - 1) + s.get(m)) / 2;
    }
  }

  private static String run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + output.strip());
    }
    return output;
  }

  private static String tail(Path file) {
    try {
      List<String> lines = Files.readAllLines(file);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 10), lines.size()));
    } catch (IOException e) {
      return "(no stderr: " + e.getMessage() + ")";
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static void log(String message) {
    System.err.println("exec-storm: " + message);
  }
}
