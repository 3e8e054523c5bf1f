package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.sinks.SecurityEvent;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code veriruntime demo} prints: the text a newcomer reads while the scenarios run, the
 * closing table, and the {@code --json} document. Pure functions of the outcomes, no I/O.
 */
final class DemoReport {

  /** How a scenario ended. Only {@link #MISSING} and {@link #UNEXPECTED} make the demo fail. */
  enum Status {
    /** The expected alert arrived (or, for a silent scenario, nothing did). */
    PASS,
    /** The expected alert did not arrive in time. */
    MISSING,
    /** An alert arrived where none was expected. */
    UNEXPECTED,
    /** Not run here; the note says why (a tool is missing). */
    SKIPPED
  }

  /** One alert as the demo shows it; latency is from the scenario's process start to arrival. */
  record Alert(
      String type, String reason, Integer pid, String path, String finding, long latencyMillis) {
    static Alert of(SecurityEvent e, long latencyMillis) {
      Object finding = e.details().get("finding");
      return new Alert(
          e.type().name(),
          e.reason(),
          e.pid(),
          e.exe() == null ? null : e.exe().path(),
          finding == null ? null : finding.toString(),
          latencyMillis);
    }
  }

  /**
   * @param alert the expected alert, null if none arrived or none was expected
   * @param seen every alert about the scenario's own processes, the expected one included
   * @param note why it was skipped or missed, or how silence was established; may be empty
   */
  record Outcome(
      int number,
      String name,
      String title,
      String expected,
      Status status,
      Alert alert,
      List<Alert> seen,
      String note) {
    Outcome {
      seen = List.copyOf(seen);
      note = note == null ? "" : note;
    }

    boolean failed() {
      return status == Status.MISSING || status == Status.UNEXPECTED;
    }
  }

  private DemoReport() {}

  /** True when no scenario failed; skipped scenarios do not fail the demo. */
  static boolean passed(List<Outcome> outcomes) {
    return outcomes.stream().noneMatch(Outcome::failed);
  }

  static String header(int number, int total, String title, String action, String expected) {
    return String.format(
        Locale.ROOT,
        "%n[%d/%d] %s%n  does:     %s%n  expects:  %s%n",
        number,
        total,
        title,
        action,
        expected);
  }

  /** An alert as it arrives: type, pid, path and latency, then its reason indented below. */
  static String arrived(Alert a) {
    StringBuilder sb = new StringBuilder("  alert:    ").append(a.type());
    if (a.finding() != null) {
      sb.append(" (").append(a.finding()).append(')');
    }
    if (a.pid() != null) {
      sb.append(" pid ").append(a.pid());
    }
    if (a.path() != null) {
      sb.append(' ').append(a.path());
    }
    sb.append(
        String.format(
            Locale.ROOT, " after %d ms%n            %s%n", a.latencyMillis(), a.reason()));
    return sb.toString();
  }

  /** The verdict line closing a scenario's block. */
  static String result(Outcome o) {
    String why =
        switch (o.status()) {
          case PASS ->
              o.alert() == null
                  ? ""
                  : o.alert().type() + " arrived after " + o.alert().latencyMillis() + " ms";
          case MISSING, UNEXPECTED, SKIPPED -> "";
        };
    String text = why.isEmpty() ? o.note() : o.note().isEmpty() ? why : why + "; " + o.note();
    return "  " + o.status() + (text.isEmpty() ? "" : "  " + text) + System.lineSeparator();
  }

  /**
   * The closing table, one row a scenario, then one line with the totals, and one with the losses
   * the agent reported (place to count), which may explain a missing alert.
   */
  static String summary(
      List<Outcome> outcomes, long elapsedMillis, int otherAlerts, Map<String, Long> lost) {
    String[] head = {"#", "scenario", "expected", "result", "latency"};
    int[] width = {head[0].length(), head[1].length(), head[2].length(), head[3].length()};
    for (Outcome o : outcomes) {
      width[0] = Math.max(width[0], Integer.toString(o.number()).length());
      width[1] = Math.max(width[1], o.title().length());
      width[2] = Math.max(width[2], o.expected().length());
      width[3] = Math.max(width[3], o.status().name().length());
    }
    String row =
        "%-" + width[0] + "s  %-" + width[1] + "s  %-" + width[2] + "s  %-" + width[3] + "s  %s";
    StringBuilder sb = new StringBuilder(System.lineSeparator());
    sb.append(String.format(Locale.ROOT, row, (Object[]) head).stripTrailing())
        .append(System.lineSeparator());
    for (Outcome o : outcomes) {
      String latency = o.alert() == null ? "-" : o.alert().latencyMillis() + " ms";
      sb.append(
              String.format(
                  Locale.ROOT, row, o.number(), o.title(), o.expected(), o.status(), latency))
          .append(System.lineSeparator());
    }
    long failed = outcomes.stream().filter(Outcome::failed).count();
    long skipped = outcomes.stream().filter(o -> o.status() == Status.SKIPPED).count();
    long pass = outcomes.size() - failed - skipped;
    sb.append(
        String.format(
            Locale.ROOT,
            "%d passed, %d failed, %d skipped in %.1f s",
            pass,
            failed,
            skipped,
            elapsedMillis / 1000.0));
    if (otherAlerts > 0) {
      sb.append(
          String.format(
              Locale.ROOT,
              "; %d other alert%s on this host not shown (`veriruntime watch` shows all)",
              otherAlerts,
              otherAlerts == 1 ? "" : "s"));
    }
    sb.append(System.lineSeparator());
    if (!lost.isEmpty()) {
      sb.append("the agent reported lost events meanwhile, which may explain a missing alert: ")
          .append(lost)
          .append(System.lineSeparator());
    }
    return sb.toString();
  }

  /**
   * The {@code --json} document: {@code passed}, {@code elapsedMillis}, {@code otherAlerts}, {@code
   * lost} (place to count) and one object per scenario with its status, expected and received
   * alert, and note.
   */
  static ObjectNode json(
      ObjectMapper mapper,
      List<Outcome> outcomes,
      long elapsedMillis,
      int otherAlerts,
      Map<String, Long> lost) {
    ObjectNode root = mapper.createObjectNode();
    root.put("passed", passed(outcomes));
    root.put("elapsedMillis", elapsedMillis);
    root.put("otherAlerts", otherAlerts);
    ObjectNode losses = root.putObject("lost");
    lost.forEach(losses::put);
    ArrayNode list = root.putArray("scenarios");
    for (Outcome o : outcomes) {
      ObjectNode s = list.addObject();
      s.put("number", o.number());
      s.put("name", o.name());
      s.put("title", o.title());
      s.put("expected", o.expected());
      s.put("status", o.status().name());
      if (o.alert() == null) {
        s.putNull("alert");
      } else {
        s.set("alert", json(mapper, o.alert()));
      }
      ArrayNode seen = s.putArray("seen");
      o.seen().forEach(a -> seen.add(json(mapper, a)));
      s.put("note", o.note());
    }
    return root;
  }

  private static ObjectNode json(ObjectMapper mapper, Alert a) {
    ObjectNode n = mapper.createObjectNode();
    n.put("type", a.type());
    n.put("reason", a.reason());
    if (a.pid() == null) {
      n.putNull("pid");
    } else {
      n.put("pid", a.pid());
    }
    n.put("path", a.path());
    n.put("finding", a.finding());
    n.put("latencyMillis", a.latencyMillis());
    return n;
  }
}
