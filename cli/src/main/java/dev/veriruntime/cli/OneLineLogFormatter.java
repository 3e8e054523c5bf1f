package dev.veriruntime.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * One line per log message, for people reading a terminal or the journal:
 *
 * <pre>2026-12-03T13:05:00.123Z WARN  Probe: optional program mmap not attached: ...</pre>
 *
 * <p>Time in UTC to the millisecond, the level (java.util.logging's names mapped to ERROR, WARN,
 * INFO, DEBUG, TRACE), the logger's last name segment, and the message with its lines folded into
 * one with {@code " | "} and trailing white space removed. A throwable adds its class and message
 * (and its root cause's) to the same line; its stack trace follows on the next lines only when
 * {@code stackTraces} is on (debug logging), because a warning a person acts on needs the reason,
 * not the frames. Stateless and thread-safe.
 */
final class OneLineLogFormatter extends Formatter {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private final boolean stackTraces;

  /**
   * @param stackTraces whether a throwable's stack trace follows its line
   */
  OneLineLogFormatter(boolean stackTraces) {
    this.stackTraces = stackTraces;
  }

  @Override
  public String format(LogRecord record) {
    StringBuilder line = new StringBuilder(160);
    line.append(TIME.format(record.getInstant()))
        .append(' ')
        .append(String.format("%-5s", levelName(record.getLevel())))
        .append(' ')
        .append(shortName(record.getLoggerName()))
        .append(": ")
        .append(fold(formatMessage(record)));
    Throwable t = record.getThrown();
    if (t != null) {
      line.append(" (").append(describe(t));
      Throwable root = rootCause(t);
      if (root != t) {
        line.append("; caused by ").append(describe(root));
      }
      line.append(')');
    }
    line.append(System.lineSeparator());
    if (t != null && stackTraces) {
      StringWriter trace = new StringWriter();
      t.printStackTrace(new PrintWriter(trace));
      line.append(trace);
    }
    return line.toString();
  }

  static String levelName(Level level) {
    int v = level.intValue();
    if (v >= Level.SEVERE.intValue()) {
      return "ERROR";
    }
    if (v >= Level.WARNING.intValue()) {
      return "WARN";
    }
    if (v >= Level.INFO.intValue()) {
      return "INFO";
    }
    if (v >= Level.FINE.intValue()) {
      return "DEBUG"; // CONFIG and FINE
    }
    return "TRACE";
  }

  /** {@code dev.veriruntime.ingest.Probe} → {@code Probe}; a class's {@code $} part kept. */
  static String shortName(String loggerName) {
    if (loggerName == null || loggerName.isEmpty()) {
      return "root";
    }
    return loggerName.substring(loggerName.lastIndexOf('.') + 1);
  }

  /** Lines joined with " | ", blank lines and trailing white space dropped. */
  static String fold(String message) {
    if (message == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(message.length());
    message
        .lines()
        .map(String::stripTrailing)
        .filter(l -> !l.isBlank())
        .forEach(l -> out.append(out.length() == 0 ? "" : " | ").append(l));
    return out.toString();
  }

  private static String describe(Throwable t) {
    String m = t.getMessage();
    return t.getClass().getSimpleName() + (m == null ? "" : ": " + fold(m));
  }

  private static Throwable rootCause(Throwable t) {
    Throwable r = t;
    for (int depth = 0; r.getCause() != null && r.getCause() != r && depth < 32; depth++) {
      r = r.getCause();
    }
    return r;
  }
}
