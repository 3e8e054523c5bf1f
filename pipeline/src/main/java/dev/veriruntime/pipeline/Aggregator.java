package dev.veriruntime.pipeline;

import dev.veriruntime.sinks.EventIds;
import dev.veriruntime.sinks.SecurityEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Folds repeats of the same finding into counts. The first occurrence of a key goes out at once
 * (aggregation never hides it); later occurrences are counted and go out as one event per report
 * interval with {@code count} = occurrences since the last report, told as the first of them tells
 * it (its process, its parent chain) with {@code details.aggregateOf} = the first occurrence's id.
 * Summed over all emitted events, {@code count} equals the number of occurrences offered.
 *
 * <p>The interval grows while the key keeps recurring: the window (10 s by default), then 1 min, 10
 * min, 1 h and 1 day, the last one repeated. A finding that comes back for a month (an unknown
 * helper that cron or a supervisor runs every minute, or every second) is about 35 events, not one
 * per window (8,640 a day). An occurrence that comes after its key's report was due, with nothing
 * counted since, goes out at once (with {@code aggregateOf}) and the next interval is the longer
 * one. A key with no occurrence for a day is forgotten, so its next occurrence is a first one
 * again; so are the least recently seen quiet keys beyond {@link #MAX_QUIET_KEYS}.
 *
 * <p>A key without repeats keeps only its id and times, not its event: a burst of distinct findings
 * (a build's or an attacker's new binaries, each once) would otherwise hold every event for a whole
 * window, which the young collections copied and then promoted (benchmarks/README.md, "Calm tail:
 * full collections").
 *
 * <p>Memory is bounded by {@code maxKeys}: when full, a new key's events pass through unaggregated
 * (more output, nothing hidden). Thread-safe (synchronized; called once per anomaly, not per exec).
 */
public final class Aggregator {
  /** The detail that names the first occurrence's id. */
  static final String AGGREGATE_OF = "aggregateOf";

  /** Incident ids a folded event names at most. */
  static final int MAX_INCIDENT_IDS = 16;

  /**
   * Keys remembered after their report with nothing counted since (about 400 bytes each): beyond
   * this many, the least recently seen are forgotten (their next occurrence goes out at once).
   */
  static final int MAX_QUIET_KEYS = 4_096;

  /** How long a key is remembered without an occurrence. */
  static final Duration FORGET_AFTER = Duration.ofDays(1);

  // The report intervals of a recurring key, the last one repeated: the window, then longer.
  private final Duration[] intervals;
  private final Duration forgetAfter;
  private final int maxKeys;
  // In access order: the least recently seen key first.
  private final Map<Key, Entry> active = new LinkedHashMap<>(16, 0.75f, true);

  public Aggregator(Duration window, int maxKeys) {
    if (window.isNegative() || window.isZero() || maxKeys < 1) {
      throw new IllegalArgumentException("window must be positive and maxKeys >= 1");
    }
    List<Duration> steps = new ArrayList<>(List.of(window));
    // After the window, the back-off of an incident's reminders (1 min, 10 min, 1 h, 1 day).
    IncidentBook.DEFAULT_REMINDERS.stream()
        .filter(step -> step.compareTo(window) > 0)
        .forEach(steps::add);
    this.intervals = steps.toArray(Duration[]::new);
    this.forgetAfter = FORGET_AFTER.compareTo(window) > 0 ? FORGET_AFTER : window;
    this.maxKeys = maxKeys;
  }

  /**
   * The key that decides what counts as "the same": the {@link FoldKeys fold key} (type, finding,
   * digest; never reason text with addresses, sizes or pids), the path the file ran from (the same
   * bytes run from another place are another event: where it ran is news) and, for an incident's
   * event, its state, so that a resolution never folds into an opening.
   */
  public static Key keyOf(SecurityEvent e) {
    return new Key(
        FoldKeys.of(e),
        e.exe() == null ? "" : e.exe().path(),
        e.incident() == null ? null : e.incident().state());
  }

  /** What {@link #keyOf} gives: one record rather than a joined string (built once per finding). */
  public record Key(FoldKeys.Key fold, String path, SecurityEvent.IncidentState state) {}

  /** Returns what to emit now for this occurrence: the event itself, or nothing if folded. */
  public synchronized List<SecurityEvent> offer(SecurityEvent event, Instant now) {
    Key key = keyOf(event);
    Entry entry = active.get(key);
    if (entry == null) {
      if (active.size() < maxKeys) {
        active.put(key, new Entry(event.id(), now));
      }
      return List.of(event);
    }
    entry.lastSeen = now;
    if (entry.count == 0 && !dueAt(entry).isAfter(now)) {
      // Its report was due with nothing to tell: this one is news, the next interval longer.
      entry.reported(now);
      return List.of(event.withDetails(Map.of(AGGREGATE_OF, entry.firstId)));
    }
    entry.add(event);
    return List.of();
  }

  /**
   * Emits the counts whose report is due by {@code now}; forgets keys not seen for a day and,
   * beyond {@link #MAX_QUIET_KEYS} keys with nothing counted, the least recently seen of them.
   */
  public synchronized List<SecurityEvent> flushExpired(Instant now) {
    List<SecurityEvent> out = new ArrayList<>();
    int quiet = 0;
    for (Iterator<Entry> it = active.values().iterator(); it.hasNext(); ) {
      Entry entry = it.next();
      if (entry.count == 0 && !entry.lastSeen.plus(forgetAfter).isAfter(now)) {
        it.remove();
        continue;
      }
      if (entry.count > 0 && !dueAt(entry).isAfter(now)) {
        out.add(entry.fold(now));
      }
      if (entry.count == 0) {
        quiet++;
      }
    }
    for (Iterator<Entry> it = active.values().iterator();
        quiet > MAX_QUIET_KEYS && it.hasNext(); ) {
      if (it.next().count == 0) {
        it.remove();
        quiet--;
      }
    }
    return out;
  }

  private Instant dueAt(Entry entry) {
    return entry.lastReport.plus(intervals[Math.min(entry.reports, intervals.length - 1)]);
  }

  /** Emits every pending count (used at shutdown so no occurrence is lost). */
  public synchronized List<SecurityEvent> flushAll(Instant now) {
    List<SecurityEvent> out = new ArrayList<>();
    for (Entry entry : active.values()) {
      if (entry.count > 0) {
        out.add(entry.fold(now));
      }
    }
    active.clear();
    return out;
  }

  public synchronized int activeKeys() {
    return active.size();
  }

  private static final class Entry {
    private final String firstId;
    private Instant lastReport;
    private Instant lastSeen;
    // Reports after the first: which interval comes next.
    private int reports;
    private long count;
    // The interval's first repeat (null while it has none), its times, and whom it folds.
    private SecurityEvent template;
    private Instant foldFirst;
    private Instant foldLast;
    private List<String> incidents;
    private Set<Object> pids;

    Entry(String firstId, Instant now) {
      this.firstId = firstId;
      this.lastReport = now;
      this.lastSeen = now;
    }

    void reported(Instant now) {
      lastReport = now;
      reports++;
    }

    void add(SecurityEvent e) {
      if (count == 0) {
        template = e;
        foldFirst = e.firstSeen();
        incidents = new ArrayList<>();
        pids = new LinkedHashSet<>();
      }
      count += e.count();
      if (e.incident() != null && incidents.size() < MAX_INCIDENT_IDS) {
        incidents.add(e.incident().id());
      }
      // Which processes: a counted event names its sample, another its own pid.
      if (e.details().get(IncidentBook.PIDS) instanceof List<?> sample) {
        for (Object pid : sample) {
          if (pids.size() < IncidentBook.MAX_SAMPLED_PIDS) {
            pids.add(pid);
          }
        }
      } else if (e.pid() != null && pids.size() < IncidentBook.MAX_SAMPLED_PIDS) {
        pids.add(e.pid());
      }
      foldLast = e.lastSeen().isAfter(foldFirst) ? e.lastSeen() : foldFirst;
    }

    SecurityEvent fold(Instant now) {
      SecurityEvent folded =
          new SecurityEvent(
              EventIds.next(now),
              template.type(),
              now,
              template.host(),
              template.pid(),
              template.exe(),
              template.reason(),
              template.coverage(),
              count,
              foldFirst,
              foldLast,
              template.findings(),
              withAggregateOf(template.details(), firstId, incidents, pids));
      count = 0;
      template = null;
      incidents = null;
      pids = null;
      reported(now);
      return folded;
    }

    private static Map<String, Object> withAggregateOf(
        Map<String, Object> templateDetails,
        String firstId,
        List<String> incidents,
        Set<Object> pids) {
      Map<String, Object> details = new LinkedHashMap<>(templateDetails);
      details.put(AGGREGATE_OF, firstId);
      if (!pids.isEmpty()) {
        // The processes folded in this interval (the first ones).
        details.put(IncidentBook.PIDS, List.copyOf(pids));
      }
      if (!incidents.isEmpty()) {
        // Each folded occurrence is another process's incident: their ids.
        details.put("incidents", List.copyOf(incidents));
      }
      return details;
    }
  }
}
