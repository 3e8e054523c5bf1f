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
 * (aggregation never hides it); later occurrences while the key stays active are counted and go out
 * as one event per window with {@code count} = occurrences in that window, told as the window's
 * first repeat tells it (its process, its parent chain) with {@code details.aggregateOf} = the
 * first occurrence's id. A key that sees no occurrence for a whole window is forgotten, so its next
 * occurrence is again immediate. Summed over all emitted events, {@code count} equals the number of
 * occurrences offered.
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
  /** Incident ids a folded event names at most. */
  static final int MAX_INCIDENT_IDS = 16;

  private final Duration window;
  private final int maxKeys;
  private final Map<Key, Entry> active = new LinkedHashMap<>();

  public Aggregator(Duration window, int maxKeys) {
    if (window.isNegative() || window.isZero() || maxKeys < 1) {
      throw new IllegalArgumentException("window must be positive and maxKeys >= 1");
    }
    this.window = window;
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
  public record Key(String fold, String path, SecurityEvent.IncidentState state) {}

  /** Returns what to emit now for this occurrence: the event itself, or nothing if folded. */
  public synchronized List<SecurityEvent> offer(SecurityEvent event, Instant now) {
    Key key = keyOf(event);
    Entry entry = active.get(key);
    if (entry != null) {
      entry.add(event, now);
      return List.of();
    }
    if (active.size() < maxKeys) {
      active.put(key, new Entry(event.id(), now));
    }
    return List.of(event);
  }

  /** Emits folded counts for windows that ended by {@code now} and forgets idle keys. */
  public synchronized List<SecurityEvent> flushExpired(Instant now) {
    List<SecurityEvent> out = new ArrayList<>();
    for (Iterator<Entry> it = active.values().iterator(); it.hasNext(); ) {
      Entry entry = it.next();
      if (entry.windowStart.plus(window).isAfter(now)) {
        continue;
      }
      if (entry.count == 0) {
        it.remove();
      } else {
        out.add(entry.fold(now));
      }
    }
    return out;
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
    private Instant windowStart;
    private long count;
    // The window's first repeat (null while it has none), its times, and whom it folds.
    private SecurityEvent template;
    private Instant windowFirst;
    private Instant windowLast;
    private List<String> incidents;
    private Set<Object> pids;

    Entry(String firstId, Instant now) {
      this.firstId = firstId;
      this.windowStart = now;
    }

    void add(SecurityEvent e, Instant now) {
      if (count == 0) {
        template = e;
        windowFirst = e.firstSeen();
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
      windowLast = e.lastSeen().isAfter(windowFirst) ? e.lastSeen() : windowFirst;
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
              windowFirst,
              windowLast,
              template.findings(),
              withAggregateOf(template.details(), firstId, incidents, pids));
      count = 0;
      template = null;
      incidents = null;
      pids = null;
      windowStart = now;
      return folded;
    }

    private static Map<String, Object> withAggregateOf(
        Map<String, Object> templateDetails,
        String firstId,
        List<String> incidents,
        Set<Object> pids) {
      Map<String, Object> details = new LinkedHashMap<>(templateDetails);
      details.put("aggregateOf", firstId);
      if (!pids.isEmpty()) {
        // The processes folded in this window (the first ones).
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
