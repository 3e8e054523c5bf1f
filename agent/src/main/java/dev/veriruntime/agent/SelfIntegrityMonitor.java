package dev.veriruntime.agent;

import dev.veriruntime.pipeline.Classifier;
import dev.veriruntime.sinks.SecurityEvent;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

/**
 * Repeats the self-integrity checks: the probe programs' links and tags ({@link
 * SelfIntegrity#probeChecker}, cheap: it reads its links' fdinfo) every {@link #PROBE_PERIOD},
 * reported once when it starts failing (or fails differently); and every check, the agent jar, the
 * JVM and libbpf ({@link SelfIntegrity#checkAll}) included, each {@code period}, reported each time
 * (the aggregator folds a failure that persists). Writes into the agent's files are reported at
 * once by {@link SelfWatch}; this is the backstop. Runs on its own single-thread scheduler because
 * it hashes files.
 */
final class SelfIntegrityMonitor {
  /** How often the probe's attachment is checked: a detached program is seen within this. */
  static final Duration PROBE_PERIOD = Duration.ofSeconds(1);

  private final SelfIntegrity checks;
  private final Supplier<SelfIntegrity.Check> probeCheck;
  private final Classifier classifier;
  private final Duration period;
  private final Scheduler worker;

  /** Reason of the last probe failure reported by the fast check; null while it passes. */
  private String lastProbeFailure;

  /** Where the latest results go, for Health; set before {@link #events()} is subscribed. */
  private SelfIntegrityStatus status = new SelfIntegrityStatus();

  private Clock clock = Clock.systemUTC();

  /** Keeps the latest results in {@code status}, stamped by {@code clock}. */
  SelfIntegrityMonitor reportingTo(SelfIntegrityStatus status, Clock clock) {
    this.status = status;
    this.clock = clock;
    return this;
  }

  SelfIntegrityMonitor(
      SelfIntegrity checks,
      Map<String, String> probeTags,
      Classifier classifier,
      Duration period,
      Scheduler worker) {
    this(checks, probeCheckOf(probeTags), classifier, period, worker);
  }

  /** With the probe check given (tests). */
  SelfIntegrityMonitor(
      SelfIntegrity checks,
      Supplier<SelfIntegrity.Check> probeCheck,
      Classifier classifier,
      Duration period,
      Scheduler worker) {
    this.checks = checks;
    this.probeCheck = probeCheck;
    this.classifier = classifier;
    this.period = period;
    this.worker = worker;
  }

  private static Supplier<SelfIntegrity.Check> probeCheckOf(Map<String, String> probeTags) {
    return SelfIntegrity.probeChecker(probeTags, Path.of("/proc/self"));
  }

  /** The probe check every second, every check each period; never completes by itself. */
  Flux<SecurityEvent> events() {
    Flux<SecurityEvent> probe =
        Flux.interval(PROBE_PERIOD, PROBE_PERIOD, worker)
            .onBackpressureDrop()
            .concatMapIterable(tick -> probeChanged());
    Flux<SecurityEvent> all =
        Flux.interval(period, period, worker)
            .onBackpressureDrop()
            .concatMapIterable(tick -> failures(true));
    return Flux.merge(probe, all);
  }

  /** The probe check's failure when it is new; runs on the single worker only. */
  List<SecurityEvent> probeChanged() {
    SelfIntegrity.Check c = probeCheck.get();
    status.probe(c, clock.instant());
    if (!c.failed()) {
      lastProbeFailure = null;
      return List.of();
    }
    if (c.reason().equals(lastProbeFailure)) {
      return List.of();
    }
    lastProbeFailure = c.reason();
    return events(List.of(c));
  }

  List<SecurityEvent> failures(boolean files) {
    List<SelfIntegrity.Check> results = new ArrayList<>();
    results.add(probeCheck.get());
    if (files) {
      results.addAll(checks.checkAll());
      status.files(results.subList(1, results.size()), clock.instant());
    }
    status.probe(results.get(0), clock.instant());
    return events(results);
  }

  private List<SecurityEvent> events(List<SelfIntegrity.Check> results) {
    List<SecurityEvent> out = new ArrayList<>();
    for (SelfIntegrity.Check c : results) {
      if (c.failed()) {
        // The file is part of the fold key: two files that fail at once are two events.
        Map<String, Object> facts =
            c.path().isEmpty()
                ? Map.of("component", c.component(), "check", "self-integrity")
                : Map.of("component", c.component(), "check", "self-integrity", "file", c.path());
        out.add(
            classifier.selfIntegrity(
                c.component() + (c.path().isEmpty() ? "" : " " + c.path()) + ": " + c.reason(),
                facts));
      }
    }
    return out;
  }
}
