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

  /** The fold key of {@code e}. */
  public static String of(SecurityEvent e) {
    if (e.details().containsKey(SinkStage.DROP_REPORT)) {
      return "drop-report|" + e.id();
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
      return e.type() + "|" + String.join(",", keys);
    }
    return e.type() + "|" + label(e) + "@" + subject(e);
  }

  /**
   * What was found, without the subject: {@code details.finding} and the other naming facts, else
   * the verifier's finding types, else the reason with its numbers masked. The finding types are
   * used only when no fact names the finding: a check passing over a process again may note other
   * things beside the finding it reports (accepted plug-ins, previous package versions).
   */
  public static String label(SecurityEvent e) {
    // Loops rather than streams: built for every finding an incident or a fold looks at.
    StringBuilder facts = null;
    for (String k : FACTS) {
      Object v = e.details().get(k);
      if (v != null) {
        facts = facts == null ? new StringBuilder() : facts.append('/');
        facts.append(v);
      }
    }
    if (facts != null && facts.length() > 0) {
      return facts.toString();
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
