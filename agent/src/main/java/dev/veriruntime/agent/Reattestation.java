package dev.veriruntime.agent;

import dev.veriruntime.pipeline.Classifier;
import dev.veriruntime.pipeline.IncidentBook;
import dev.veriruntime.pipeline.ProcessTable;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.verifier.Finding;
import dev.veriruntime.verifier.FindingType;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.ScopeStatus;
import dev.veriruntime.verifier.process.ProcessGoneException;
import dev.veriruntime.verifier.process.ProcessVerification;
import dev.veriruntime.verifier.process.ProcessVerifier;
import dev.veriruntime.verifier.process.ReattestationScheduler;
import dev.veriruntime.verifier.process.RuntimeStateRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * Continuous re-attestation of long-running processes, so a patch made an hour after start is still
 * found. Each round verifies, in full (VerifyProcess: MEMORY_MAP, MEMORY_CODE...), up to {@code
 * perRound} tracked processes not yet in the {@link RuntimeStateRegistry}; every second the {@link
 * ReattestationScheduler} spends its byte budget re-comparing code of known processes. MEMORY_CODE
 * or MEMORY_MAP failures become RUNTIME_DRIFT; a memory comparison that could not be made becomes
 * VERIFICATION_DEGRADED, unless the process simply ended meanwhile (a process that is gone has no
 * code left to check). Rounds and ticks run on the one injected single-thread {@code worker}.
 *
 * <p>A process whose memory another process just wrote into is verified at once ({@link
 * #verifyAtOnce}), outside the rounds and the byte budget, on its own single-thread {@code
 * urgentWorker}, so that a long round does not delay it. Its events carry no {@code details.check}
 * but {@code details.verifiedAfter} (the write's technique): they are the live finding's
 * consequence and join the incident the write opened.
 *
 * <p>A round takes a process only once it has run for {@code minAge} (the daemon passes the round
 * interval), unless it has an open incident: on a build server most processes live for a second or
 * less (a compiler, a shell), their exec and every library they map were verified already, and a
 * write into their memory is verified at once; verifying each one that happened to run at a round
 * cost a warm agent a third of its CPU during a build (the compiler's tens of MiB of code read
 * through {@code /proc/PID/mem}, eight processes a round; benchmarks/README.md, "Build noise").
 *
 * <p>The agent's own process is never re-attested: it is covered by self-integrity alone (its JIT
 * memory would otherwise be reported as drift once a second). After each pass over a process the
 * {@link PassListener} learns which event types that pass found, so an incident whose condition is
 * gone can be resolved ("condition cleared").
 */
public final class Reattestation {
  /** The {@code details.check} of every event re-attestation produces. */
  public static final String CHECK = "re-attestation";

  /** The detail naming the write that made the agent verify a process at once. */
  public static final String VERIFIED_AFTER = IncidentBook.VERIFIED_AFTER;

  /** Clock ticks per second in {@code /proc/PID/stat}: 100 on every Linux ABI (USER_HZ). */
  private static final int USER_HZ = 100;

  private record Urgent(int pid, String after) {}

  /** Told, after each pass over a process, which event types the pass found (none: all clear). */
  @FunctionalInterface
  public interface PassListener {
    void passed(int pid, Set<EventType> found);

    /**
     * Whether {@code pid} should be verified before others in a round (it has an open incident): on
     * a host with many processes a round reaches only {@code perRound} of them.
     */
    default boolean urgent(int pid) {
      return false;
    }
  }

  private final ProcessVerifier verifier;
  private final ReattestationScheduler scheduler;
  private final RuntimeStateRegistry registry;
  private final ProcessTable table;
  private final Classifier classifier;
  private final Duration interval;
  private final int perRound;
  private final Scheduler worker;
  private final Scheduler urgentWorker;
  // Emissions are serialized by synchronizing on the sink (callers may be any thread).
  private final Sinks.Many<Urgent> urgent = Sinks.many().unicast().onBackpressureBuffer();
  // Pids waiting for an immediate verification: a debugger's thousand pokes queue one, not 1000.
  private final Set<Integer> queued = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final long selfPid;
  private final PassListener listener;
  private final Duration minAge;

  /** Without a pass listener; the current process is the agent's own. */
  public Reattestation(
      ProcessVerifier verifier,
      ReattestationScheduler scheduler,
      RuntimeStateRegistry registry,
      ProcessTable table,
      Classifier classifier,
      Duration interval,
      int perRound,
      Scheduler worker) {
    this(
        verifier,
        scheduler,
        registry,
        table,
        classifier,
        interval,
        perRound,
        worker,
        worker,
        ProcessHandle.current().pid(),
        (pid, found) -> {},
        Duration.ZERO);
  }

  /**
   * @param worker runs rounds and ticks
   * @param urgentWorker runs immediate verifications ({@link #verifyAtOnce})
   * @param selfPid the agent's own pid, never re-attested
   * @param listener told the outcome of every pass (e.g. {@code IncidentBook::checkPassed})
   * @param minAge how long a process must have run before a round verifies it (an urgent one, with
   *     an open incident, is verified at any age); zero takes every process
   */
  public Reattestation(
      ProcessVerifier verifier,
      ReattestationScheduler scheduler,
      RuntimeStateRegistry registry,
      ProcessTable table,
      Classifier classifier,
      Duration interval,
      int perRound,
      Scheduler worker,
      Scheduler urgentWorker,
      long selfPid,
      PassListener listener,
      Duration minAge) {
    this.minAge = minAge;
    this.urgentWorker = urgentWorker;
    this.selfPid = selfPid;
    this.listener = listener;
    this.verifier = verifier;
    this.scheduler = scheduler;
    this.registry = registry;
    this.table = table;
    this.classifier = classifier;
    this.interval = interval;
    this.perRound = perRound;
    this.worker = worker;
  }

  /** Findings as they come; never completes by itself. */
  public Flux<SecurityEvent> events() {
    Flux<SecurityEvent> rounds =
        Flux.interval(interval, interval, worker)
            .onBackpressureDrop()
            .concatMapIterable(t -> round());
    Flux<SecurityEvent> ticks =
        Flux.interval(Duration.ofSeconds(1), Duration.ofSeconds(1), worker)
            .onBackpressureDrop()
            .concatMapIterable(
                t -> scheduler.tick().stream().flatMap(v -> pass(v).stream()).toList());
    Flux<SecurityEvent> atOnce =
        urgent
            .asFlux()
            .publishOn(urgentWorker)
            .concatMapIterable(u -> verifyNow(u.pid(), u.after()));
    return Flux.merge(rounds, ticks, atOnce);
  }

  /**
   * Verifies {@code pid} in full (MEMORY_MAP, MEMORY_CODE) as soon as the urgent worker is free:
   * for a process whose memory another process wrote into ({@code after}: a ptrace poke,
   * process_vm_writev, a write to /proc/PID/mem), so the changed code is reported within a second
   * instead of at the next round. Its drift comes out of {@link #events()}. A pid already waiting
   * is not queued twice. Thread-safe; never blocks.
   */
  public void verifyAtOnce(int pid, String after) {
    if (pid <= 0 || pid == selfPid || !queued.add(pid)) {
      return;
    }
    synchronized (urgent) {
      urgent.tryEmitNext(new Urgent(pid, after));
    }
  }

  /** The drift and gaps one immediate verification finds; nothing when the process is gone. */
  List<SecurityEvent> verifyNow(int pid, String after) {
    // Writes seen from here on queue another verification: this one may read before them.
    queued.remove(pid);
    try {
      ProcessVerification v = verifier.verify(pid);
      if (v.findings().stream().anyMatch(f -> f.type() == FindingType.PROCESS_GONE)) {
        table.exited(pid);
        return events(v, VERIFIED_AFTER, after).stream()
            .filter(ev -> ev.type() == EventType.RUNTIME_DRIFT)
            .toList();
      }
      registry.record(v);
      return events(v, VERIFIED_AFTER, after);
    } catch (ProcessGoneException gone) {
      table.exited(pid);
    } catch (Exception ex) {
      // kernel threads, unreadable /proc entries: nothing to attest
    }
    return List.of();
  }

  /** Verifies processes the registry does not know yet. */
  List<SecurityEvent> round() {
    List<SecurityEvent> out = new ArrayList<>();
    int done = 0;
    double uptime = minAge.isZero() ? 0 : uptimeSeconds();
    List<ProcessTable.Entry> candidates = new ArrayList<>(table.snapshot());
    // Stable: urgent ones first, the others in the table's order.
    candidates.sort((a, b) -> Boolean.compare(listener.urgent(b.pid()), listener.urgent(a.pid())));
    for (ProcessTable.Entry e : candidates) {
      if (done >= perRound) {
        break;
      }
      if (e.pid() == selfPid
          || registry.get(e.pid()).isPresent()
          || (uptime > 0 && !listener.urgent(e.pid()) && youngerThanMinAge(e.pid(), uptime))) {
        continue;
      }
      try {
        ProcessVerification v = verifier.verify(e.pid());
        if (v.findings().stream().anyMatch(f -> f.type() == FindingType.PROCESS_GONE)) {
          // Ended while it was being verified: what failed before it ended is still drift; what
          // could not be checked after it ended is no gap (its exec was verified when it happened).
          table.exited(e.pid());
          events(v).stream().filter(ev -> ev.type() == EventType.RUNTIME_DRIFT).forEach(out::add);
          continue;
        }
        registry.record(v);
        out.addAll(pass(v));
        done++;
      } catch (ProcessGoneException gone) {
        table.exited(e.pid());
      } catch (Exception ex) {
        // kernel threads, unreadable /proc entries: nothing to attest
      }
    }
    return out;
  }

  /**
   * Whether {@code pid} started less than {@link #minAge} before {@code uptime} (seconds since
   * boot); false when that cannot be read (the verification then finds out why).
   */
  private boolean youngerThanMinAge(int pid, double uptime) {
    try {
      double started = verifier.procFs().startTicks(pid) / (double) USER_HZ;
      return uptime - started < minAge.toNanos() / 1e9;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** Seconds since boot from {@code /proc/uptime}, or 0 (take every process) when unreadable. */
  private double uptimeSeconds() {
    try {
      String line = Files.readString(verifier.procFs().root().resolve("uptime"));
      return Double.parseDouble(line.substring(0, line.indexOf(' ')));
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** The events of one pass over a process; tells the listener what the pass found. */
  private List<SecurityEvent> pass(ProcessVerification v) {
    List<SecurityEvent> out = events(v);
    Set<EventType> found = EnumSet.noneOf(EventType.class);
    out.forEach(e -> found.add(e.type()));
    listener.passed(v.pid(), found);
    return out;
  }

  /** The events one process verification warrants, if any. */
  List<SecurityEvent> events(ProcessVerification v) {
    return events(v, "check", CHECK);
  }

  /** {@code trigger}/{@code value}: the detail saying what made the agent verify. */
  private List<SecurityEvent> events(ProcessVerification v, String trigger, String value) {
    List<SecurityEvent> out = new ArrayList<>();
    String exe = v.executable().path();
    for (Scope scope : List.of(Scope.MEMORY_CODE, Scope.MEMORY_MAP)) {
      Optional<ScopeResult> r = v.scope(scope);
      if (r.isEmpty()) {
        continue;
      }
      Map<String, Object> facts = new LinkedHashMap<>();
      facts.put("scope", scope.name());
      facts.put(trigger, value);
      List<Finding> findings = v.findings().stream().filter(f -> f.scope() == scope).toList();
      if (!findings.isEmpty()) {
        // The same key as drift seen live (BINARY_DELETED, CODE_MODIFIED...): the finding the
        // scope's reason quotes ("first: ..."); all of them go out as the event's findings.
        String why = r.get().reason();
        Finding quoted =
            findings.stream()
                .filter(f -> why.contains(f.reason()))
                .findFirst()
                .orElse(findings.get(0));
        facts.put("finding", quoted.type().name());
      }
      if (r.get().status() == ScopeStatus.FAILED) {
        out.add(
            classifier.drift(
                v.pid(),
                exe,
                v.executable().identity(),
                v.executable().sha256(),
                "running process " + exe + ": " + scope + " failed: " + r.get().reason(),
                facts,
                findings));
      } else if (r.get().status() == ScopeStatus.NOT_VERIFIED && scope == Scope.MEMORY_CODE) {
        out.add(
            classifier.degraded(
                v.pid(),
                "running process " + exe + ": " + scope + " not verified: " + r.get().reason(),
                facts,
                findings));
      }
    }
    return out;
  }
}
