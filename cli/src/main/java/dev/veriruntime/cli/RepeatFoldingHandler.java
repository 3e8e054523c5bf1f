package dev.veriruntime.cli;

import dev.veriruntime.pipeline.Reminders;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.LogRecord;

/**
 * Prints a log message that keeps coming back once, then counts its repeats instead of printing
 * each: Kafka's client, for one, logs two warnings per reconnect attempt while the brokers are
 * away, about 17,000 lines a day. A repeat is a message with the same logger, level, text and
 * throwable (class and message) as one seen less than {@link #QUIET} before. The count is printed
 * with the message when it comes again {@link #REMINDERS 1 min, 10 min and then every hour} after
 * the last print; when it comes back after a quiet gap (a new outage), the count of the one before
 * is printed first and the message as a new one; the counts still held are printed on {@link
 * #close()}, as the process ends. So every occurrence is either printed or counted in a printed
 * line, and a message that runs all day is about 26 lines.
 *
 * <p>At most {@link #KEYS} messages are followed; the one left alone longest makes room, its count
 * printed first. Thread-safe: {@link #publish} is serialised.
 */
final class RepeatFoldingHandler extends Handler {
  /** A repeat further than this from the one before starts a new condition. */
  static final Duration QUIET = Duration.ofMinutes(10);

  /** How long after each print the next count comes; the last step repeats. */
  static final Reminders REMINDERS = Reminders.HOURLY;

  /** The most distinct messages followed at once. */
  static final int KEYS = 256;

  private final Handler out;
  private final Formatter text;
  private final Clock clock;
  private final Map<String, Repeat> followed =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Repeat> eldest) {
          if (size() <= KEYS) {
            return false;
          }
          eldest.getValue().printHeld(RepeatFoldingHandler.this.out, "");
          return true;
        }
      };

  /** One message followed: what was printed last, and the repeats since, not printed. */
  private static final class Repeat {
    final LogRecord record;
    final String message;
    Instant printed;
    Instant last;
    long held;
    int step;

    Repeat(LogRecord record, String message, Instant now) {
      this.record = record;
      this.message = message;
      this.printed = now;
      this.last = now;
    }

    /** How long after the last print the next count comes. */
    Duration interval() {
      return REMINDERS.after(step);
    }

    Instant due() {
      return printed.plus(interval());
    }

    /** The message with its count held, {@code when} (since, between) and what follows. */
    String counted(String when, String then) {
      return message
          + " (and "
          + held
          + (held == 1 ? " time" : " times")
          + " more "
          + when
          + ", counted rather than printed"
          + then
          + ")";
    }

    /** Prints the count held, if any; {@code then} ends its line. */
    void printHeld(Handler out, String then) {
      if (held > 0) {
        out.publish(
            copy(record, last, counted("between " + at(printed) + " and " + at(last), then)));
        held = 0;
      }
    }
  }

  /**
   * @param out where the lines go; its formatter's {@link Formatter#formatMessage} gives the text
   *     compared
   * @param clock the time a message counts as seen
   */
  RepeatFoldingHandler(Handler out, Clock clock) {
    this.out = Objects.requireNonNull(out, "out");
    this.text = Objects.requireNonNull(out.getFormatter(), "out's formatter");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public synchronized void publish(LogRecord record) {
    if (!isLoggable(record)) {
      return;
    }
    Instant now = clock.instant();
    String message = text.formatMessage(record);
    Throwable t = record.getThrown();
    String key =
        record.getLoggerName()
            + '\0'
            + record.getLevel().intValue()
            + '\0'
            + message
            + '\0'
            + (t == null ? "" : t.toString());
    Repeat r = followed.get(key);
    if (r != null && Duration.between(r.last, now).compareTo(QUIET) <= 0) {
      r.last = now;
      r.held++;
      if (!now.isBefore(r.due())) {
        r.step++;
        out.publish(
            copy(
                record,
                now,
                r.counted("since " + at(r.printed), "; the next count in " + words(r.interval()))));
        r.printed = now;
        r.held = 0;
      }
      return;
    }
    if (r != null) {
      r.printHeld(out, "; then quiet");
    }
    followed.put(key, new Repeat(record, message, now));
    out.publish(record);
  }

  @Override
  public void flush() {
    out.flush();
  }

  /** Prints every count still held, then closes {@code out}. */
  @Override
  public synchronized void close() {
    List<Repeat> held = new ArrayList<>(followed.values());
    followed.clear();
    for (Repeat r : held) {
      r.printHeld(out, "");
    }
    out.close();
  }

  /** The record with another time and text, as printed; the rest (level, logger) kept. */
  private static LogRecord copy(LogRecord original, Instant time, String message) {
    LogRecord c = new LogRecord(original.getLevel(), message);
    c.setInstant(time);
    c.setLoggerName(original.getLoggerName());
    c.setThrown(original.getThrown());
    c.setSourceClassName(original.getSourceClassName());
    c.setSourceMethodName(original.getSourceMethodName());
    return c;
  }

  private static Instant at(Instant t) {
    return t.truncatedTo(ChronoUnit.MILLIS);
  }

  private static String words(Duration d) {
    return d.toHours() >= 1 ? d.toHours() + " h" : d.toMinutes() + " min";
  }
}
