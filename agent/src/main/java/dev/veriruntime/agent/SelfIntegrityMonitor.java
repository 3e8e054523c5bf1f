package dev.veriruntime.agent;

import dev.veriruntime.pipeline.Classifier;
import dev.veriruntime.sinks.SecurityEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

/**
 * Repeats the self-integrity checks every {@code period}: the agent jar, the JVM and libbpf ({@link
 * SelfIntegrity#checkAll}) and the probe programs' links and tags ({@link
 * SelfIntegrity#checkProbe}). Each failure is a SELF_INTEGRITY_FAILURE (the aggregator folds a
 * failure that persists). Runs on its own single-thread scheduler because it hashes files.
 */
final class SelfIntegrityMonitor {
  private final SelfIntegrity checks;
  private final Map<String, String> probeTags;
  private final Classifier classifier;
  private final Duration period;
  private final Scheduler worker;

  SelfIntegrityMonitor(
      SelfIntegrity checks,
      Map<String, String> probeTags,
      Classifier classifier,
      Duration period,
      Scheduler worker) {
    this.checks = checks;
    this.probeTags = Map.copyOf(probeTags);
    this.classifier = classifier;
    this.period = period;
    this.worker = worker;
  }

  /** The first probe check right away, then every check each period; never completes by itself. */
  Flux<SecurityEvent> events() {
    return Flux.interval(Duration.ofSeconds(1), period, worker)
        .onBackpressureDrop()
        .concatMapIterable(tick -> failures(tick > 0));
  }

  List<SecurityEvent> failures(boolean files) {
    List<SelfIntegrity.Check> results = new ArrayList<>();
    results.add(SelfIntegrity.checkProbe(probeTags));
    if (files) {
      results.addAll(checks.checkAll());
    }
    List<SecurityEvent> out = new ArrayList<>();
    for (SelfIntegrity.Check c : results) {
      if (c.failed()) {
        out.add(
            classifier.selfIntegrity(
                c.component() + (c.path().isEmpty() ? "" : " " + c.path()) + ": " + c.reason(),
                Map.of("component", c.component(), "check", "self-integrity")));
      }
    }
    return out;
  }
}
