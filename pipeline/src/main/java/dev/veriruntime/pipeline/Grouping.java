package dev.veriruntime.pipeline;

import dev.veriruntime.sinks.SecurityEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Merges the findings about one process found together (its executable and the libraries it maps in
 * the same moment, or one re-attestation pass) into one event that lists them. Stateless.
 *
 * <p>The merged event is the process's own finding (its executable's, {@code details.observed}
 * "exec" or "running process"; the last one when it executed several) or else the first one, with
 * every finding of the group in {@code findings} (at most {@value #MAX_FINDINGS}), {@code
 * details.itemCount} = how many were found and {@code details.items} = the first {@value
 * #MAX_ITEMS} of them (the process's own first, then by path), each {@code {path, sha256, finding,
 * subject, reason, details}}. Its reason names how many more there are and the first {@value
 * #NAMED} by path.
 */
public final class Grouping {
  /** Detail key of the grouped findings. */
  public static final String ITEMS = "items";

  /** Detail key of how many findings a grouped event stands for. */
  public static final String ITEM_COUNT = "itemCount";

  /** Detail key saying what was observed: "exec", "executable mapping", "running process". */
  public static final String OBSERVED = "observed";

  static final int MAX_ITEMS = 32;
  static final int MAX_FINDINGS = 64;
  static final int NAMED = 5;

  private Grouping() {}

  /**
   * One event for {@code events} (all about one process, of one type); the event itself if one. A
   * finding repeated within the group (the same check passing over the process again) counts once.
   */
  public static SecurityEvent merge(List<SecurityEvent> all) {
    if (all.size() == 1) {
      return all.get(0);
    }
    Map<String, SecurityEvent> distinct = new LinkedHashMap<>();
    for (SecurityEvent e : all) {
      distinct.putIfAbsent(itemKey(e), e);
    }
    List<SecurityEvent> events = List.copyOf(distinct.values());
    if (events.size() == 1) {
      return events.get(0);
    }
    // The last exec leads: a launcher (jspawnhelper, a memfd loader, a dropper) that executes
    // another program in the same process has become that program.
    SecurityEvent primary =
        events.stream()
            .filter(e -> isOwnExecutable(e.details().get(OBSERVED)))
            .reduce((first, second) -> second)
            .orElse(events.get(0));
    List<SecurityEvent> others = new ArrayList<>(events);
    others.remove(primary);
    others.sort(Comparator.comparing(Grouping::path));
    List<SecurityEvent> ordered = new ArrayList<>();
    ordered.add(primary);
    ordered.addAll(others);

    List<String> named =
        others.stream().map(Grouping::path).distinct().limit(NAMED).collect(Collectors.toList());
    String reason =
        primary.reason()
            + "; and "
            + others.size()
            + " more in this process"
            + (others.size() > NAMED ? " (first " + NAMED + " by path)" : "")
            + ": "
            + String.join(", ", named);

    Map<String, Object> details = new LinkedHashMap<>(primary.details());
    details.put(ITEM_COUNT, events.size());
    details.put(ITEMS, ordered.stream().limit(MAX_ITEMS).map(Grouping::item).toList());
    List<SecurityEvent.EventFinding> findings =
        ordered.stream().flatMap(e -> e.findings().stream()).limit(MAX_FINDINGS).toList();
    Instant first = all.stream().map(SecurityEvent::firstSeen).min(Instant::compareTo).get();
    Instant last = all.stream().map(SecurityEvent::lastSeen).max(Instant::compareTo).get();
    return new SecurityEvent(
        primary.id(),
        primary.type(),
        primary.time(),
        primary.host(),
        primary.pid(),
        primary.exe(),
        reason,
        primary.coverage(),
        1,
        first,
        last.isBefore(first) ? first : last,
        findings,
        details);
  }

  /** The key of one finding inside a group or an incident: what was found, about what. */
  static String itemKey(SecurityEvent e) {
    return FoldKeys.label(e) + "@" + FoldKeys.subject(e);
  }

  private static boolean isOwnExecutable(Object observed) {
    return "exec".equals(observed) || "running process".equals(observed);
  }

  private static Map<String, Object> item(SecurityEvent e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("path", path(e));
    if (e.exe() != null && e.exe().sha256() != null) {
      m.put("sha256", e.exe().sha256());
    }
    m.put("finding", FoldKeys.label(e));
    m.put("subject", FoldKeys.subject(e));
    m.put("reason", e.reason());
    Map<String, Object> details = new LinkedHashMap<>(e.details());
    details.remove(OBSERVED);
    if (!details.isEmpty()) {
      m.put("details", details);
    }
    return m;
  }

  private static String path(SecurityEvent e) {
    return e.exe() == null || e.exe().path() == null ? "" : e.exe().path();
  }
}
