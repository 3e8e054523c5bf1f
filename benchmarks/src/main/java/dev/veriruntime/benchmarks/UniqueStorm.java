package dev.veriruntime.benchmarks;

import static dev.veriruntime.benchmarks.PrometheusScrape.delta;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The unique-binaries storm (issue 20, "Floods"): every exec is of a file never executed before,
 * like a configure run at full speed. Compiles the ingest tests' {@code exec_child.c} and {@code
 * benchmarks/unique-storm/unique_driver.c}, writes {@code --execs} copies of the child each with
 * its own 8-byte trailer (so each has its own digest), starts the agent, waits until it is idle,
 * and then has {@code --workers} processes exec every copy once as fast as they can.
 *
 * <p>While the storm runs, a sampler reads the agent's VmRSS, its thread count and the number of
 * its verification-lane threads ({@code veriruntime-verify*}) every 100 ms. After the storm it
 * waits until the agent's verdict and exec counters stop moving, scrapes its metrics and stops it.
 * The accounting: every exec the agent read got an answer (exec verdicts ≥ exec events read), and
 * the driver's execs are at most the execs read plus those the kernel could not store (counted); on
 * a shared host other execs only add to what the agent read.
 */
@Command(
    name = "unique-storm",
    mixinStandardHelpOptions = true,
    description =
        "Exec a storm of binaries never seen before under the agent; report the accounting.")
public final class UniqueStorm implements java.util.concurrent.Callable<Integer> {
  static final String LATENCY = "veriruntime_exec_verdict_latency_seconds";
  static final String WATCHING = "veriruntime: watching";

  @Option(names = "--execs", description = "Distinct binaries, each executed once (default 20000).")
  int execs = 20_000;

  @Option(names = "--workers", description = "Processes executing at once (default 4).")
  int workers = 4;

  @Option(
      names = "--root",
      description = "The source tree (for the C sources and bin/veriruntime); default: .")
  Path root = Path.of(".");

  @Option(
      names = "--agent",
      split = " ",
      description =
          "The command that runs the CLI, space-separated (default: ROOT/bin/veriruntime); `watch"
              + " --json --metrics-port P --state-dir D --socket S` is appended.")
  List<String> agent;

  @Option(
      names = "--out",
      description = "Directory for unique-storm.json and unique-storm.md (default: none).")
  Path out;

  @Option(names = "--work", description = "Work directory (default: a new one in /var/tmp).")
  Path work;

  /** What one storm measured. Counter figures are deltas from before the storm to the drain. */
  record Result(
      String loadStart,
      String loadEnd,
      int execsPlanned,
      int workers,
      long driverOk,
      long driverFailed,
      double driverSeconds,
      long execEventsRead,
      long execVerdicts,
      long verdictsComputed,
      Map<String, Long> verdictsByKind,
      long lostExec,
      long lostAll,
      Map<String, Long> dropped,
      long rejectedQueueFull,
      long cacheMisses,
      double p50Ms,
      double p99Ms,
      double p999Ms,
      double drainSeconds,
      long rssBeforeKiB,
      long rssMaxDuringKiB,
      long rssAfterKiB,
      long peakRssKiB,
      int threadsMax,
      int verifyThreadsMax,
      long emittedEvents,
      long stormOccurrencesReported) {

    /** Execs the driver ran that the agent neither read nor counted as lost (≤ 0 when none). */
    long unaccounted() {
      return driverOk - execEventsRead - lostExec;
    }

    /**
     * Every exec read was answered. The scrape is not atomic: the exposition renders {@code
     * veriruntime_events_in_total} before {@code veriruntime_exec_verdict_latency_seconds} (sorted
     * by name), so answers counted after the reads were counted may include execs read in between,
     * and answers ≥ reads means every exec read by the first count was answered by the second.
     */
    boolean everyExecAnswered() {
      return execVerdicts >= execEventsRead;
    }
  }

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public static void main(String[] args) {
    System.exit(ChildProcesses.execute("unique-storm", new UniqueStorm(), args));
  }

  @Override
  public Integer call() throws Exception {
    Result r = run();
    log(summary(r));
    if (out != null) {
      Files.createDirectories(out);
      json.writeValue(out.resolve("unique-storm.json").toFile(), r);
      Files.writeString(out.resolve("unique-storm.md"), markdown(r, Instant.now()));
      log("wrote " + out.resolve("unique-storm.md"));
    }
    return r.everyExecAnswered() && r.unaccounted() <= 0 ? 0 : 1;
  }

  /** Builds, starts the agent, storms, drains, stops; deletes the work directory it made. */
  Result run() throws Exception {
    boolean ownWork = work == null;
    Path dir = ownWork ? Files.createTempDirectory(Path.of("/var/tmp"), "vr-unique-storm.") : work;
    try {
      return run(dir);
    } finally {
      if (ownWork) {
        deleteTree(dir);
      }
    }
  }

  private Result run(Path dir) throws Exception {
    Path exec = root.resolve("ingest/src/test/resources/dev/veriruntime/ingest/testing/exec");
    Path child = dir.resolve("child");
    Path driver = dir.resolve("unique_driver");
    sh(List.of("gcc", "-O2", "-o", child.toString(), exec.resolve("exec_child.c").toString()));
    sh(
        List.of(
            "gcc",
            "-O2",
            "-o",
            driver.toString(),
            root.resolve("benchmarks/unique-storm/unique_driver.c").toString()));
    Path bins = Files.createDirectories(dir.resolve("u"));
    sh(
        List.of(
            driver.toString(),
            "make",
            child.toString(),
            bins.toString(),
            "0",
            Integer.toString(execs)));
    List<String> launcher =
        agent == null || agent.isEmpty()
            ? List.of(root.resolve("bin/veriruntime").toString())
            : agent;
    try (AgentProcess p = AgentProcess.start(launcher, dir)) {
      int port = p.metricsPort;
      Path stdout = p.stdout;
      drain(port, Duration.ofSeconds(60));
      p.awaitIdle();
      String loadStart = ExecStorm.loadAverage();
      PrometheusScrape before = PrometheusScrape.fetch(http, port);
      long rssBefore = AgentProcess.statusKiB(p.pid(), "VmRSS:");
      Sampler sampler = new Sampler(p.pid());
      Thread samplerThread = new Thread(sampler, "unique-storm-sampler");
      samplerThread.setDaemon(true);
      samplerThread.start();
      log("storm: " + execs + " distinct binaries, " + workers + " workers");
      String done =
          sh(
              List.of(
                  driver.toString(),
                  "run",
                  bins.toString(),
                  "0",
                  Integer.toString(execs),
                  Integer.toString(workers)));
      long drainStart = System.nanoTime();
      PrometheusScrape after = drain(port, Duration.ofSeconds(300));
      double drainSeconds = (System.nanoTime() - drainStart) / 1e9;
      sampler.stop.set(true);
      samplerThread.join(2000);
      String loadEnd = ExecStorm.loadAverage();
      long rssAfter = AgentProcess.statusKiB(p.pid(), "VmRSS:");
      long hwm = AgentProcess.statusKiB(p.pid(), "VmHWM:");
      p.close();
      String[] f = done.strip().split("\\s+");
      long ok = Long.parseLong(f[1]);
      long failed = Long.parseLong(f[2]);
      double secs = Double.parseDouble(f[3]);
      Map<String, Long> dropped =
          labelDeltas(before, after, "veriruntime_events_dropped_total", "place");
      Map<String, Long> verdicts =
          labelDeltas(before, after, "veriruntime_verdicts_total", "verdict");
      LatencyHistogram h = PrometheusScrape.histogramDelta(before, after, LATENCY);
      return new Result(
          loadStart,
          loadEnd,
          execs,
          workers,
          ok,
          failed,
          secs,
          delta(before, after, "veriruntime_events_in_total", "kind", "ExecEvent"),
          Math.round(after.sum(LATENCY + "_count") - before.sum(LATENCY + "_count")),
          verdicts.values().stream().mapToLong(Long::longValue).sum(),
          verdicts,
          delta(before, after, "veriruntime_events_lost_total", "kind", "exec"),
          Math.round(
              after.sum("veriruntime_events_lost_total")
                  - before.sum("veriruntime_events_lost_total")),
          dropped,
          dropped.getOrDefault("stage.verify.rejected", 0L),
          delta(before, after, "veriruntime_cache_lookups_total", "result", "miss"),
          h.quantileSeconds(0.5) * 1000,
          h.quantileSeconds(0.99) * 1000,
          h.quantileSeconds(0.999) * 1000,
          drainSeconds,
          rssBefore,
          sampler.rssMax.get(),
          rssAfter,
          hwm,
          (int) sampler.threadsMax.get(),
          (int) sampler.verifyMax.get(),
          Math.round(
              after.sum("veriruntime_events_emitted_total")
                  - before.sum("veriruntime_events_emitted_total")),
          occurrences(stdout, bins.toString()));
    }
  }

  /** Reads VmRSS, Threads and the verification-lane threads every 100 ms, keeping the maxima. */
  private static final class Sampler implements Runnable {
    final long pid;
    final AtomicBoolean stop = new AtomicBoolean();
    final AtomicLong rssMax = new AtomicLong();
    final AtomicLong threadsMax = new AtomicLong();
    final AtomicLong verifyMax = new AtomicLong();

    Sampler(long pid) {
      this.pid = pid;
    }

    @Override
    public void run() {
      while (!stop.get()) {
        try {
          rssMax.accumulateAndGet(AgentProcess.statusKiB(pid, "VmRSS:"), Math::max);
          long threads = 0;
          long verify = 0;
          try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
              threads++;
              try {
                // comm is at most 15 characters: "veriruntime-ver"
                if (Files.readString(t.resolve("comm")).startsWith("veriruntime-ver")) {
                  verify++;
                }
              } catch (IOException gone) {
                // the thread ended between list and read
              }
            }
          }
          threadsMax.accumulateAndGet(threads, Math::max);
          verifyMax.accumulateAndGet(verify, Math::max);
          Thread.sleep(100);
        } catch (IOException e) {
          return; // the agent is gone
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /** Sum of the {@code count} of emitted events whose executable lies under {@code dir}. */
  private long occurrences(Path stdout, String dir) throws IOException {
    long n = 0;
    try (Stream<String> lines = Files.lines(stdout)) {
      for (String line : (Iterable<String>) lines::iterator) {
        if (!line.startsWith("{") || !line.contains(dir)) {
          continue;
        }
        JsonNode e;
        try {
          e = json.readTree(line);
        } catch (IOException notJson) {
          continue;
        }
        n += e.path("count").asLong(1);
      }
    }
    return n;
  }

  /**
   * Waits until every exec event the agent read has its answer (exec verdicts ≥ exec events read,
   * see {@link Result#everyExecAnswered}, at two scrapes 500 ms apart: on a busy host both keep
   * moving) or {@code limit} passes; returns the last scrape.
   */
  private PrometheusScrape drain(int port, Duration limit)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    PrometheusScrape last = PrometheusScrape.fetch(http, port);
    int equal = 0;
    while (equal < 2 && System.nanoTime() < deadline) {
      Thread.sleep(500);
      last = PrometheusScrape.fetch(http, port);
      boolean answered =
          last.sum(LATENCY + "_count")
              >= last.sum("veriruntime_events_in_total", "kind", "ExecEvent");
      equal = answered ? equal + 1 : 0;
    }
    return last;
  }

  private static Map<String, Long> labelDeltas(
      PrometheusScrape before, PrometheusScrape after, String name, String label) {
    Map<String, Long> out = new LinkedHashMap<>();
    after.samples().stream()
        .filter(s -> s.name().equals(name) && s.labels().containsKey(label))
        .sorted(Comparator.comparing(s -> s.labels().get(label)))
        .forEach(
            s -> {
              long d = delta(before, after, name, label, s.labels().get(label));
              if (d != 0) {
                out.put(s.labels().get(label), d);
              }
            });
    return out;
  }

  static String summary(Result r) {
    return String.format(
        Locale.ROOT,
        "%d execs in %.1f s (%.0f exec/s, %d failed); agent read %d, answered %d (%d computed"
            + " verdicts, %d unverifiable because the queue was full), kernel lost %d exec records;"
            + " unaccounted %d; exec→verdict p50 %.2f ms, p99 %.1f ms, p99.9 %.1f ms; drained %.1f"
            + " s after the storm; RSS %d → max %d → %d MiB, VmHWM %d MiB; threads ≤ %d, lane"
            + " threads ≤ %d; load %s → %s",
        r.driverOk(),
        r.driverSeconds(),
        r.driverOk() / r.driverSeconds(),
        r.driverFailed(),
        r.execEventsRead(),
        r.execVerdicts(),
        r.verdictsComputed(),
        r.rejectedQueueFull(),
        r.lostExec(),
        r.unaccounted(),
        r.p50Ms(),
        r.p99Ms(),
        r.p999Ms(),
        r.drainSeconds(),
        r.rssBeforeKiB() / 1024,
        r.rssMaxDuringKiB() / 1024,
        r.rssAfterKiB() / 1024,
        r.peakRssKiB() / 1024,
        r.threadsMax(),
        r.verifyThreadsMax(),
        r.loadStart(),
        r.loadEnd());
  }

  static String markdown(Result r, Instant when) {
    StringBuilder md = new StringBuilder();
    md.append("# Unique-binaries storm\n\n");
    md.append(
        "`benchmarks/unique-storm.sh` (benchmarks/README.md, \"Unique-binaries storm\"): every exec"
            + " is of a binary never executed before (a copy of `exec_child` with its own 8-byte"
            + " trailer), as fast as the workers can. ");
    md.append(when).append(", ").append(Runtime.getRuntime().availableProcessors());
    md.append(" cores, load average ")
        .append(r.loadStart())
        .append(" at the start and ")
        .append(r.loadEnd())
        .append(" at the end (a shared machine: other sessions' builds run beside it).\n\n");
    md.append("| figure | value |\n|---|---|\n");
    row(md, "distinct binaries executed (driver, exit 0)", r.driverOk());
    row(md, "failed execs (driver)", r.driverFailed());
    row(md, "workers", r.workers());
    row(md, "storm seconds", String.format(Locale.ROOT, "%.1f", r.driverSeconds()));
    row(md, "exec/s", String.format(Locale.ROOT, "%.0f", r.driverOk() / r.driverSeconds()));
    row(md, "exec events the agent read (whole host)", r.execEventsRead());
    row(md, "exec verdicts (answers, whole host)", r.execVerdicts());
    row(md, "verdicts computed, by verdict", r.verdictsComputed() + " " + r.verdictsByKind());
    row(md, "cache misses", r.cacheMisses());
    row(md, "unverifiable: verification queue full (counted drop)", r.rejectedQueueFull());
    row(md, "exec records the kernel could not store (counted drop)", r.lostExec());
    row(md, "all records lost / dropped by place", r.lostAll() + " / " + r.dropped());
    row(md, "unaccounted (driver − read − lost; ≤ 0 is none)", r.unaccounted());
    row(md, "every exec read answered", r.everyExecAnswered() ? "yes" : "**no**");
    row(
        md,
        "exec → verdict p50 / p99 / p99.9",
        String.format(Locale.ROOT, "%.2f / %.1f / %.1f ms", r.p50Ms(), r.p99Ms(), r.p999Ms()));
    row(md, "drain after the storm", String.format(Locale.ROOT, "%.1f s", r.drainSeconds()));
    row(
        md,
        "RSS before / max during / after",
        r.rssBeforeKiB() / 1024
            + " / "
            + r.rssMaxDuringKiB() / 1024
            + " / "
            + r.rssAfterKiB() / 1024
            + " MiB");
    row(md, "peak RSS (VmHWM, whole life)", r.peakRssKiB() / 1024 + " MiB");
    row(
        md,
        "threads (max) / verification-lane threads (max)",
        r.threadsMax() + " / " + r.verifyThreadsMax());
    row(md, "security events emitted", r.emittedEvents());
    row(md, "occurrences of storm binaries in emitted events", r.stormOccurrencesReported());
    return md.toString();
  }

  private static void row(StringBuilder md, String k, Object v) {
    md.append("| ").append(k).append(" | ").append(v).append(" |\n");
  }

  private static String sh(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + output);
    }
    return output;
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static void log(String message) {
    System.err.println("unique-storm: " + message);
  }
}
