package dev.veriruntime.pipeline;

import dev.veriruntime.sinks.SecurityEvent;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * What makes two findings "the same", for folding repeats and for recognising a finding an incident
 * already holds. A key is built from the event type, the finding behind it ({@code
 * details.finding}, the technique, the check and scope, who asked, the file written ({@code
 * details.file}: a write into another file is news), or the verifier's finding types) and the
 * subject's digest (its path only when no digest is known), never from the reason text: reasons
 * carry addresses, sizes and pids that change from one occurrence to the next. Only an event that
 * has none of these facts falls back to its reason with every number replaced by {@code #}.
 *
 * <p>A grouped event (several findings about one process, {@code details.items}) has the key of its
 * items together. Loss reports are never folded: each has a key of its own. Stateless.
 */
public final class FoldKeys {
  private static final Pattern NUMBERS = Pattern.compile("0x[0-9a-fA-F]+|[0-9]+");

  /**
   * Detail keys that name what was found, in key order; who asked for the verification ({@link
   * IncidentBook#ASKED_BY}: an alert's source and rule) is part of it, so answers to different
   * rules about one digest are not folded into one.
   */
  private static final List<String> FACTS =
      List.of(
          "finding",
          "technique",
          "check",
          "scope",
          "component",
          "program",
          "socket",
          "file",
          IncidentBook.ASKED_BY);

  private FoldKeys() {}

  /**
   * The fold key of {@code e}: its parts rather than their joined text, so that a key costs no new
   * string (the aggregator keeps one per finding for its window).
   */
  public static Key of(SecurityEvent e) {
    if (e.details().containsKey(SinkStage.DROP_REPORT)) {
      return new Key("drop-report", e.id(), null);
    }
    if (e.details().get(Grouping.ITEMS) instanceof List<?> items && !items.isEmpty()) {
      TreeSet<String> keys = new TreeSet<>();
      for (Object item : items) {
        if (item instanceof Map<?, ?> m) {
          keys.add(
              Objects.toString(m.get("finding"), "")
                  + "@"
                  + Objects.toString(m.get("subject"), ""));
        }
      }
      return new Key(e.type().name(), String.join(",", keys), null);
    }
    return new Key(e.type().name(), label(e), subject(e));
  }

  /**
   * A fold key: the event type (or {@code drop-report}), what was found (a grouped event's items
   * together, a loss report's id) and the subject (null for those two).
   */
  public record Key(String kind, String finding, String subject) {
    /** The key as text: {@code TYPE|finding@subject}. */
    @Override
    public String toString() {
      return kind + "|" + finding + (subject == null ? "" : "@" + subject);
    }
  }

  /**
   * What was found, without the subject: {@code details.finding} and the other naming facts, else
   * the verifier's finding types, else the reason with its numbers masked. The finding types are
   * used only when no fact names the finding: a check passing over a process again may note other
   * things beside the finding it reports (accepted plug-ins, previous package versions).
   */
  public static String label(SecurityEvent e) {
    // Loops rather than streams: built for every finding an incident or a fold looks at.
    // The common cases (one fact, one finding type) are the event's own string, not a new one.
    Object first = null;
    StringBuilder facts = null;
    for (String k : FACTS) {
      Object v = e.details().get(k);
      if (v == null) {
        continue;
      }
      if (first == null) {
        first = v;
      } else {
        facts = (facts == null ? new StringBuilder().append(first) : facts).append('/').append(v);
      }
    }
    if (facts != null) {
      return facts.toString();
    }
    if (first != null && !first.toString().isEmpty()) {
      return first.toString();
    }
    if (e.findings().size() == 1) {
      return e.findings().get(0).type();
    }
    if (!e.findings().isEmpty()) {
      TreeSet<String> types = new TreeSet<>();
      for (SecurityEvent.EventFinding f : e.findings()) {
        types.add(f.type());
      }
      return String.join("+", types);
    }
    return subject(e).isEmpty() ? NUMBERS.matcher(e.reason()).replaceAll("#") : "";
  }

  /** Whether no detail names the finding: its label is the verifier's finding types. */
  static boolean plain(SecurityEvent e) {
    for (String k : FACTS) {
      if (e.details().containsKey(k)) {
        return false;
      }
    }
    return true;
  }

  /** The subject's SHA-256, else its path, else empty. */
  public static String subject(SecurityEvent e) {
    if (e.exe() == null) {
      return "";
    }
    if (e.exe().sha256() != null && !e.exe().sha256().isEmpty()) {
      return e.exe().sha256();
    }
    return e.exe().path() == null ? "" : e.exe().path();
  }
}
