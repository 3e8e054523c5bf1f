package dev.veriruntime.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.veriruntime.agent.Daemon;
import dev.veriruntime.agent.Policy;
import dev.veriruntime.api.ApiException;
import dev.veriruntime.api.ApiServer;
import dev.veriruntime.api.CoreApis;
import dev.veriruntime.api.EventFeed;
import dev.veriruntime.cli.DemoReport.Alert;
import dev.veriruntime.cli.DemoReport.Outcome;
import dev.veriruntime.cli.DemoReport.Status;
import dev.veriruntime.ingest.KernelSupport;
import dev.veriruntime.ingest.ProbeException;
import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.pipeline.SinkStage;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code veriruntime demo}: for a newcomer. Runs a few harmless scenarios one after another and
 * shows the alerts about them as they arrive, then a table. When an agent answers on the API
 * socket's gRPC socket, the demo follows that agent's live event stream (its policy decides what is
 * reported); otherwise it starts an agent in this process (the probe, the pipeline, the embedded
 * default policy; private state, no journal, no control API). Every process it starts is killed and
 * every file it made is removed before it returns, also on Ctrl-C.
 *
 * <p>Exit codes: 0 every expected alert arrived and no unexpected one (skipped scenarios do not
 * count), {@link ExitCodes#DEMO_FAILED} otherwise, {@link ExitCodes#KERNEL_UNSUPPORTED} without
 * root or BTF, {@link ExitCodes#PROBE_FAILED} when the probe does not load.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Show what VeriRuntime detects, in about a minute.",
      "%nRuns harmless scenarios (a trusted binary, an unknown one, fileless execution from a memfd, an LD_PRELOAD library), shows each alert as it arrives with its latency, then a PASS/MISSING table. When an agent is running (its gRPC socket answers beside --socket), the demo watches that agent's events; otherwise it starts an agent in this process, which needs root.",
      "%nExit codes: 0 every expected alert arrived; 50 one did not, or an unexpected one came; 20 the probe cannot run here (not root, no BTF); 21 it failed to load; 40 the running agent did not start its event stream."
    })
public final class DemoCommand implements Callable<Integer> {
  /**
   * After the awaited alert, how long the alerts that come with it (or, for silence, any) may still
   * arrive.
   */
  private static final Duration GRACE = Duration.ofMillis(500);

  /** The JVM starts children through this helper; an alert about it is not about the scenario. */
  private static final Path JVM_SPAWN_HELPER =
      Path.of(System.getProperty("java.home"), "lib", "jspawnhelper");

  @Option(
      names = "--json",
      description = "Print only the results, as one JSON document (keys: passed, scenarios, ...).")
  boolean json;

  @Option(
      names = "--socket",
      paramLabel = "PATH",
      description =
          "The API socket of a running agent to attach to (its gRPC socket is PATH.grpc); when none"
              + " answers there the demo starts its own (default: ${DEFAULT-VALUE}).")
  Path socket = ApiServer.DEFAULT_SOCKET;

  @Option(
      names = "--timeout",
      paramLabel = "D",
      converter = DurationConverter.class,
      description = "How long each scenario waits for its alert (default: 10s).")
  Duration timeout = Duration.ofSeconds(10);

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private final Supplier<Optional<String>> kernelUnavailable;

  public DemoCommand() {
    this(KernelSupport::unavailableReason);
  }

  /** For tests: a different answer to "can the probe run here?". */
  DemoCommand(Supplier<Optional<String>> kernelUnavailable) {
    this.kernelUnavailable = kernelUnavailable;
  }

  @Override
  public Integer call() throws IOException, InterruptedException {
    boolean attach = AgentEvents.status(socket) == CoreApis.DaemonStatus.RUNNING;
    if (!attach) {
      Optional<String> unavailable = kernelUnavailable.get();
      if (unavailable.isPresent()) {
        throw new CliException(
            ExitCodes.KERNEL_UNSUPPORTED,
            "the demo needs root: cannot load the probe here: " + unavailable.get());
      }
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    long started = System.nanoTime();
    List<Outcome> outcomes = new ArrayList<>();
    Tally tally = new Tally();
    ByteArrayOutputStream agentLog = new ByteArrayOutputStream();
    AtomicReference<Throwable> agentFailure = new AtomicReference<>();
    AtomicReference<Daemon> agent = new AtomicReference<>();
    try (DemoWorkspace ws = DemoWorkspace.create()) {
      // Ctrl-C or SIGTERM.
      Thread cleaner =
          new Thread(
              () -> {
                // The workspace first: whatever happens to the agent, no unknown binary of ours may
                // outlive the demo, nor its files.
                try {
                  ws.close();
                } catch (IOException | RuntimeException e) {
                  System.err.println("veriruntime: demo clean-up incomplete: " + e.getMessage());
                }
                Optional.ofNullable(agent.get()).ifPresent(Daemon::stop);
              },
              "veriruntime-demo-cleanup");
      Runtime.getRuntime().addShutdownHook(cleaner);
      try {
        AlertFeed feed = new AlertFeed();
        say(
            out,
            "VeriRuntime demo: harmless scenarios against a live agent; the alerts about them are shown as they arrive.%n");
        try (AutoCloseable source =
            attach
                ? attach(feed, agentFailure, agentLog, out)
                : ownAgent(ws, feed, agentLog, agent, agentFailure, out)) {
          say(out, "Agent ready after %d ms.%n", millis(System.nanoTime() - started));
          List<DemoScenario> scenarios = DemoScenario.standard(ws);
          for (int i = 0; i < scenarios.size(); i++) {
            outcomes.add(run(i + 1, scenarios.size(), scenarios.get(i), feed, ws, tally, out));
          }
        } catch (IOException | InterruptedException | RuntimeException e) {
          throw e;
        } catch (Exception e) {
          throw new IllegalStateException("closing the demo's event source: " + e, e);
        }
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(cleaner);
        } catch (IllegalStateException shuttingDown) {
          // the hook is running: it cleans up itself
        }
      }
    }
    long elapsed = millis(System.nanoTime() - started);
    if (json) {
      out.println(jsonText(outcomes, elapsed, tally.others, tally.lost));
    } else {
      out.print(DemoReport.summary(outcomes, elapsed, tally.others, tally.lost));
    }
    out.flush();
    boolean passed = DemoReport.passed(outcomes);
    if (!passed || agentFailure.get() != null) {
      if (agentFailure.get() != null) {
        err.println("veriruntime: the demo's agent stopped: " + agentFailure.get());
      }
      err.print(
          "veriruntime: the demo's agent said:\n" + agentLog.toString(StandardCharsets.UTF_8));
      err.flush();
    }
    return passed ? ExitCodes.OK : ExitCodes.DEMO_FAILED;
  }

  /**
   * Runs one scenario: starts it, shows the alerts about its processes until the awaited one and a
   * grace period.
   */
  private Outcome run(
      int number,
      int total,
      DemoScenario s,
      AlertFeed feed,
      DemoWorkspace ws,
      Tally tally,
      PrintWriter out)
      throws InterruptedException {
    say(out, "%s", DemoReport.header(number, total, s.title(), s.action(), s.expected()));
    Outcome outcome;
    if (s.unavailable() != null) {
      outcome = outcome(number, s, Status.SKIPPED, null, List.of(), s.unavailable());
    } else {
      try {
        outcome = await(number, s, s.launcher().launch(), feed, tally, out);
      } catch (IOException e) {
        outcome =
            outcome(
                number,
                s,
                Status.MISSING,
                null,
                List.of(),
                "could not run the scenario: " + e.getMessage());
      } finally {
        ws.stopProcesses();
      }
    }
    say(out, "%s", DemoReport.result(outcome));
    return outcome;
  }

  private Outcome await(
      int number,
      DemoScenario s,
      DemoScenario.Launch launch,
      AlertFeed feed,
      Tally tally,
      PrintWriter out)
      throws InterruptedException {
    tally.demoPids.addAll(launch.pids());
    long deadline = launch.startedNanos() + timeout.toNanos();
    Alert awaited = null;
    List<Alert> seen = new ArrayList<>();
    for (long until = deadline; System.nanoTime() < until; ) {
      AlertFeed.Arrival a = feed.next(Duration.ofNanos(until - System.nanoTime()));
      if (a == null) {
        continue;
      }
      SecurityEvent e = a.event();
      Alert alert = Alert.of(e, millis(a.nanos() - launch.startedNanos()));
      boolean isAwaited = awaited == null && launch.awaited().test(e);
      if (isAwaited) {
        awaited = alert;
        until = a.nanos() + GRACE.toNanos();
      }
      if (launch.pids().contains(DemoScenario.pid(e)) && !isSpawnHelper(e)) {
        seen.add(alert);
        say(out, "%s", DemoReport.arrived(alert));
      } else if (!isAwaited
          && (isSpawnHelper(e) || !tally.demoPids.contains(DemoScenario.pid(e)))) {
        tally.count(e);
      }
    }
    String waited =
        timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + " s" : timeout.toMillis() + " ms";
    if (launch.silent()) {
      if (awaited == null) {
        return outcome(
            number,
            s,
            Status.MISSING,
            null,
            seen,
            "the marker's alert did not arrive within " + waited + ", so silence proves nothing");
      }
      String marker =
          "the marker's alert arrived "
              + awaited.latencyMillis()
              + " ms after "
              + DemoScenario.TRUE
              + " started";
      return seen.isEmpty()
          ? outcome(
              number,
              s,
              Status.PASS,
              null,
              seen,
              "no alert about "
                  + DemoScenario.TRUE
                  + " ("
                  + marker
                  + ", and "
                  + GRACE.toMillis()
                  + " ms more passed)")
          : outcome(
              number,
              s,
              Status.UNEXPECTED,
              null,
              seen,
              seen.size() + " alert(s) about a binary that should be trusted");
    }
    return awaited != null
        ? outcome(number, s, Status.PASS, awaited, seen, "")
        : outcome(
            number, s, Status.MISSING, null, seen, "no " + s.expected() + " within " + waited);
  }

  private static Outcome outcome(
      int number, DemoScenario s, Status status, Alert alert, List<Alert> seen, String note) {
    return new Outcome(number, s.name(), s.title(), s.expected(), status, alert, seen, note);
  }

  /**
   * Follows the running agent's live events (its gRPC stream) into {@code feed}. Its policy and
   * references decide what it reports, not the demo's.
   */
  private AutoCloseable attach(
      AlertFeed feed,
      AtomicReference<Throwable> failure,
      ByteArrayOutputStream log,
      PrintWriter out)
      throws InterruptedException {
    say(
        out,
        "Attaching to the agent running on %s (its policy decides what is reported; the demo starts no probe of its own)...%n",
        AgentEvents.socketOf(socket));
    AgentEvents events = AgentEvents.connect(socket);
    CountDownLatch following = new CountDownLatch(1);
    PrintStream notes = new PrintStream(log, true, StandardCharsets.UTF_8);
    Thread reader =
        new Thread(
            () -> {
              try {
                events.follow(
                    OptionalLong.empty(),
                    Set.of(),
                    item -> {
                      if (item instanceof EventFeed.Event e) {
                        byte[] line = (e.json() + "\n").getBytes(StandardCharsets.UTF_8);
                        feed.write(line, 0, line.length);
                      } else if (item instanceof EventFeed.Live) {
                        following.countDown();
                      }
                    },
                    notes::println);
              } catch (ApiException | RuntimeException e) {
                failure.set(e);
                notes.println("the agent's event stream failed: " + e.getMessage());
              } finally {
                following.countDown();
              }
            },
            "veriruntime-demo-events");
    reader.setDaemon(true);
    reader.start();
    if (!following.await(10, TimeUnit.SECONDS) || failure.get() != null) {
      events.close();
      throw new CliException(
          ExitCodes.DAEMON_UNAVAILABLE,
          "the running agent did not start its event stream: "
              + Optional.ofNullable(failure.get()).map(Throwable::getMessage).orElse("no answer"));
    }
    return () -> {
      events.close();
      reader.join(Duration.ofSeconds(5).toMillis());
    };
  }

  /** Starts an agent in this process, writing its JSON console into {@code feed}. */
  private AutoCloseable ownAgent(
      DemoWorkspace ws,
      AlertFeed feed,
      ByteArrayOutputStream log,
      AtomicReference<Daemon> agent,
      AtomicReference<Throwable> failure,
      PrintWriter out)
      throws IOException {
    say(
        out,
        "Starting an agent in this process (embedded default policy, state in %s, no journal)...%n",
        ws.dir());
    Daemon daemon = startAgent(ws, feed, log);
    agent.set(daemon);
    Thread runner =
        new Thread(
            () -> {
              try {
                daemon.run(null);
              } catch (RuntimeException | Error e) {
                failure.set(e);
              }
            },
            "veriruntime-demo-agent");
    runner.start();
    return () -> {
      daemon.stop();
      runner.join(Duration.ofSeconds(10).toMillis());
      daemon.close();
    };
  }

  private static Daemon startAgent(DemoWorkspace ws, AlertFeed feed, ByteArrayOutputStream log)
      throws IOException {
    Policy policy = Policy.defaults();
    // The demo is about execs and mappings; re-attesting every process on the host would only add
    // load and alerts about other processes.
    policy.reattestation.enabled = false;
    // Losses are what would explain a missing alert: report them while the demo still runs.
    policy.aggregation.dropReportSeconds = 1;
    // Alerts from the rest of the host must not use up the console's budget before ours.
    policy.sinks.console.rate = 10_000;
    policy.sinks.console.burst = 10_000;
    Path state = Files.createDirectories(ws.dir().resolve("state"));
    Daemon.Settings settings =
        new Daemon.Settings(policy, ReferenceStore.empty(), true, state, state, false, false, null);
    try {
      return Daemon.start(
          settings,
          ProbeSettings.forCurrentProcess(),
          new PrintStream(feed, true, StandardCharsets.UTF_8),
          new PrintStream(log, true, StandardCharsets.UTF_8));
    } catch (ProbeException e) {
      throw new CliException(ExitCodes.PROBE_FAILED, "probe failed: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.STATE_UNWRITABLE,
          "cannot open the demo's state directory: " + e.getMessage(),
          e);
    }
  }

  private static boolean isSpawnHelper(SecurityEvent e) {
    return e.exe() != null && JVM_SPAWN_HELPER.toString().equals(e.exe().path());
  }

  private static String jsonText(
      List<Outcome> outcomes, long elapsed, int others, Map<String, Long> lost) {
    ObjectMapper mapper = new ObjectMapper();
    try {
      return mapper.writeValueAsString(DemoReport.json(mapper, outcomes, elapsed, others, lost));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise the demo's results", e);
    }
  }

  /** Narration, for people: nothing of it with {@code --json}. */
  private void say(PrintWriter out, String format, Object... args) {
    if (!json) {
      out.printf(Locale.ROOT, format, args);
      out.flush();
    }
  }

  private static long millis(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  /**
   * What the scenarios saw besides their own alerts: how many others, and the losses the agent
   * reported.
   */
  private static final class Tally {
    final Set<Long> demoPids = new HashSet<>();
    final Map<String, Long> lost = new TreeMap<>();
    int others;

    void count(SecurityEvent e) {
      others++;
      if (Boolean.TRUE.equals(e.details().get(SinkStage.DROP_REPORT))
          && e.details().get("lost") instanceof Map<?, ?> m) {
        m.forEach(
            (place, n) -> {
              if (n instanceof Number count) {
                lost.merge(String.valueOf(place), count.longValue(), Long::sum);
              }
            });
      }
    }
  }
}
