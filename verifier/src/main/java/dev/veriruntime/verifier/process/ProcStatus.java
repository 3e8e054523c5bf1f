package dev.veriruntime.verifier.process;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The fields of {@code /proc/PID/status} that verification uses, plus every raw field.
 *
 * @param name the {@code Name} field (comm: informative only, never used for identity)
 * @param tracerPid the {@code TracerPid} field: 0 when no tracer is attached
 * @param realUid the first {@code Uid} value, or -1 when absent
 * @param fields every {@code Key: value} line, value trimmed
 */
public record ProcStatus(String name, int tracerPid, int realUid, Map<String, String> fields) {

  public ProcStatus {
    fields = Map.copyOf(fields);
  }

  /** Parses the text of {@code /proc/PID/status}; missing fields get neutral values. */
  public static ProcStatus parse(String text) {
    Map<String, String> fields = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        fields.putIfAbsent(line.substring(0, colon), line.substring(colon + 1).strip());
      }
    }
    // "Uid: real effective saved fs", tab-separated: the first, without a regular expression.
    String uid = fields.getOrDefault("Uid", "");
    int tab = uid.indexOf('\t');
    return new ProcStatus(
        fields.getOrDefault("Name", ""),
        intField(fields.get("TracerPid")).orElse(0),
        intField(tab < 0 ? uid : uid.substring(0, tab)).orElse(-1),
        fields);
  }

  private static OptionalInt intField(String value) {
    try {
      return value == null ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(value.strip()));
    } catch (NumberFormatException e) {
      return OptionalInt.empty();
    }
  }

  /**
   * Start time of the process in clock ticks since boot: field 22 of {@code /proc/PID/stat}. With
   * the pid it names one process for the life of the system, so a recycled pid is noticed.
   *
   * @throws IllegalArgumentException if {@code statText} is not in the stat format
   */
  public static long startTicks(String statText) {
    return Long.parseLong(statField(statText, 22));
  }

  /**
   * The state letter of {@code /proc/PID/stat} (field 3): {@code R}, {@code S}, {@code D}, ...,
   * {@code Z} for a zombie, {@code X} for a dead task.
   *
   * @throws IllegalArgumentException if {@code statText} is not in the stat format
   */
  public static char state(String statText) {
    return statField(statText, 3).charAt(0);
  }

  private static String statField(String statText, int wanted) {
    // comm (field 2) is in parentheses and may contain spaces and ')': fields are counted after
    // the last ')', walking the spaces without a split (read for every counted exec of a storm
    // whose exit was not seen, and for every open incident each liveness period).
    int close = statText.lastIndexOf(')');
    if (close < 0) {
      throw new IllegalArgumentException("not a /proc/PID/stat line: " + statText);
    }
    int start = close + 1;
    for (int field = 3; ; field++) {
      while (start < statText.length() && Character.isWhitespace(statText.charAt(start))) {
        start++;
      }
      int end = start;
      while (end < statText.length() && !Character.isWhitespace(statText.charAt(end))) {
        end++;
      }
      if (end == start) {
        throw new IllegalArgumentException(
            "too few fields in /proc/PID/stat: " + (field - 3) + " after the command name");
      }
      if (field == wanted) {
        return statText.substring(start, end);
      }
      start = end;
    }
  }
}
