package dev.veriruntime.pipeline;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

/**
 * Turns losses into events. Every {@code period}, it collects the sinks' drop counts and drains the
 * {@link DropLedger}. The first loss (threshold zero: one lost event is enough) is reported at once
 * in one VERIFICATION_DEGRADED event whose details carry the exact counts per place and the window.
 * A loss that goes on (a ring that overflows under a storm that lasts, a process table that keeps
 * evicting on a busy host) is one lasting condition, not an event every window: its counts are held
 * and reported {@link #REMINDERS 1 min, 10 min and then every hour} after the report before, at
 * once when a place loses for the first time in the condition, and when the condition ends (no loss
 * for {@link #QUIET}), with {@code details.lossSince} and {@code details.lossTotal}; summed over
 * all reports, {@code details.lost} is still every count exactly. A condition that had reports
 * after its first says when it ended, counts or not. {@link #report()} (the pipeline's end) reports
 * whatever is held at once.
 *
 * <p>A sink that fails everything it finishes (a full disk under the journal, a webhook that is
 * down) is reported once when that starts and once when it delivers again, with the count of what
 * it could not deliver meanwhile, rather than in every window (see {@link
 * SinkStage#collectSinkDrops(Instant)}).
 */
public final class DropReporter {
  /** The pauses between the reports of a lasting loss, the last one repeated. */
  static final Reminders REMINDERS = Reminders.HOURLY;

  /** A loss condition ends after this long without a loss. */
  static final Duration QUIET = Duration.ofMinutes(1);

  private final DropLedger ledger;
  private final SinkStage sinks;
  private final Duration period;
  private final Scheduler scheduler;
  private final String host;
  private Instant windowStart;
  // The lasting loss, null while nothing is lost; its counts not reported yet, and since when.
  private Loss loss;
  private final Map<String, Long> held = new TreeMap<>();
  private Instant heldFrom;

  /** One lasting loss: when it began, the last window with a loss, what was reported so far. */
  private static final class Loss {
    final Instant since;
    final Set<String> places = new HashSet<>();
    Instant lastLoss;
    Instant nextReport;
    int reports;
    long total;

    Loss(Instant since) {
      this.since = since;
      this.nextReport = since;
    }
  }

  public DropReporter(
      DropLedger ledger, SinkStage sinks, Duration period, Scheduler scheduler, String host) {
    this.ledger = ledger;
    this.sinks = sinks;
    this.period = period;
    this.scheduler = scheduler;
    this.host = host;
  }

  /** Reports on each tick; never completes by itself. */
  public Flux<SecurityEvent> reports() {
    return Flux.defer(
        () -> {
          windowStart = now();
          return Flux.interval(period, period, scheduler)
              .onBackpressureDrop()
              .concatMapIterable(tick -> tick());
        });
  }

  /**
   * The reports of the window that ends now (and resets the window): the loss's, if one is due, and
   * one for each sink that started failing or recovered in it.
   */
  public synchronized List<SecurityEvent> tick() {
    return windowEnds(false);
  }

  /** As {@link #tick()}, but whatever loss is held is reported now: for the pipeline's end. */
  public synchronized List<SecurityEvent> report() {
    return windowEnds(true);
  }

  private List<SecurityEvent> windowEnds(boolean flush) {
    Instant end = now();
    Instant start = windowStart == null ? end : windowStart;
    windowStart = end;
    List<SecurityEvent> out = new ArrayList<>();
    List<SinkStage.SinkCondition> changes =
        sinks == null ? List.of() : sinks.collectSinkDrops(start);
    Map<String, Long> lost = ledger.drain();
    boolean newPlace = false;
    if (!lost.isEmpty()) {
      if (loss == null) {
        loss = new Loss(start);
      }
      if (held.isEmpty()) {
        heldFrom = start;
      }
      lost.forEach((place, n) -> held.merge(place, n, Long::sum));
      newPlace = !loss.places.containsAll(lost.keySet());
      loss.lastLoss = end;
    }
    if (loss != null) {
      boolean ended = lost.isEmpty() && !end.isBefore(loss.lastLoss.plus(QUIET));
      boolean due = flush || ended || newPlace || !end.isBefore(loss.nextReport);
      if (due && (!held.isEmpty() || (ended && loss.reports > 1))) {
        out.add(lossReport(end, ended, flush));
      }
      if (ended) {
        loss = null;
      }
    }
    changes.forEach(c -> out.add(condition(c, end)));
    return out;
  }

  /** The report of what {@link #held} holds (perhaps nothing, when only the end is news). */
  private SecurityEvent lossReport(Instant end, boolean ended, boolean last) {
    long count = held.values().stream().mapToLong(Long::longValue).sum();
    boolean first = loss.reports == 0;
    loss.total += count;
    loss.reports++;
    loss.places.addAll(held.keySet());
    Duration pause = REMINDERS.after(loss.reports - 1);
    loss.nextReport = end.plus(pause);
    StringBuilder reason = new StringBuilder();
    if (count > 0) {
      reason.append(count).append(" events not fully handled between ");
      reason.append(heldFrom).append(" and ").append(end).append(": ").append(held);
    }
    if (ended) {
      reason.append(count > 0 ? "; " : "");
      reason.append("the loss that began at ").append(loss.since).append(" has stopped (");
      reason.append(loss.total).append(" events in all)");
    } else if (!first) {
      reason.append(last ? "; the loss went on since " : "; the loss goes on since ");
      reason.append(loss.since).append(" (").append(loss.total).append(" events in all)");
      reason.append(
          last
              ? " until the pipeline stopped"
              : ", reported again in " + pause.toMinutes() + " min while it lasts");
    }
    SecurityEvent.Builder b =
        SecurityEvent.builder(EventType.VERIFICATION_DEGRADED, end)
            .host(host)
            .reason(reason.toString())
            .firstSeen(count > 0 ? heldFrom : loss.since)
            .lastSeen(end)
            .detail(SinkStage.DROP_REPORT, true)
            .detail("window", window(count > 0 ? heldFrom : loss.since, end))
            .detail("lossSince", loss.since.toString())
            .detail("lossTotal", loss.total);
    if (count > 0) {
      b.detail("lost", new LinkedHashMap<String, Object>(held));
    }
    if (ended) {
      b.detail("lossEnded", true);
    }
    held.clear();
    return b.build();
  }

  private SecurityEvent condition(SinkStage.SinkCondition c, Instant end) {
    String reason =
        c.failing()
            ? String.format(
                "sink %s is failing (%s): events are not delivered to it until it recovers; the"
                    + " other sinks still receive them; reported again when it recovers",
                c.sink(), c.failure())
            : String.format(
                "sink %s delivers again after failing for %.1f s (%s): %d events from %s to %s"
                    + " were not delivered to it",
                c.sink(),
                Duration.between(c.since(), end).toMillis() / 1000.0,
                c.failure(),
                c.undelivered(),
                c.since(),
                end);
    return SecurityEvent.builder(EventType.VERIFICATION_DEGRADED, end)
        .host(host)
        .reason(reason)
        .firstSeen(c.since())
        .lastSeen(end)
        .detail(SinkStage.DROP_REPORT, true)
        .detail("check", c.failing() ? "sink-failing" : "sink-recovered")
        .detail("sink", c.sink())
        .detail("failure", c.failure())
        .detail("window", window(c.since(), end))
        .detail("undelivered", c.undelivered())
        .build();
  }

  private static Map<String, Object> window(Instant from, Instant to) {
    Map<String, Object> window = new LinkedHashMap<>();
    window.put("from", from.toString());
    window.put("to", to.toString());
    return window;
  }

  private Instant now() {
    return Instant.ofEpochMilli(scheduler.now(TimeUnit.MILLISECONDS));
  }
}
