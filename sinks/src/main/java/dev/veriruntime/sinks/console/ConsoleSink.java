package dev.veriruntime.sinks.console;

import dev.veriruntime.sinks.BoundedSink;
import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Writes events to a stream (normally standard output), either as JSON lines (one {@link EventJson}
 * object per line, for {@code jq} and log shippers) or as human-readable text. ANSI colour is used
 * only when asked for; {@link #human(PrintStream)} asks for it only when the stream is {@code
 * System.out}, stdout is a terminal ({@code System.console() != null}) and {@code NO_COLOR} is not
 * set.
 *
 * <p>The stream is flushed once per batch; a write error (including one a {@link PrintStream}
 * swallows, seen through {@code checkError()}) fails the batch. The sink does not close the stream.
 * Thread-safe as every {@link dev.veriruntime.sinks.Sink}.
 */
public final class ConsoleSink extends BoundedSink {
  /** Output format. */
  public enum Format {
    JSON_LINES,
    HUMAN
  }

  private static final String RESET = "\u001b[0m";
  private static final String BOLD = "\u001b[1m";
  private static final String DIM = "\u001b[2m";

  private final OutputStream out;
  private final Format format;
  private final boolean colour;

  /**
   * One JSON line at a time (deliveries are sequential), serialised here first so that a failure
   * writes nothing.
   */
  private final ByteArrayOutputStream line = new ByteArrayOutputStream(4096);

  /**
   * @param out where to write; not closed by this sink
   * @param scheduler drain scheduler, or {@code null} for a dedicated thread
   */
  public ConsoleSink(
      OutputStream out, Format format, boolean colour, int capacity, Scheduler scheduler) {
    super("console", capacity, 256, scheduler, Duration.ofSeconds(2));
    this.out = Objects.requireNonNull(out, "out");
    this.format = Objects.requireNonNull(format, "format");
    this.colour = colour;
  }

  /** JSON lines to {@code out}, 4096 pending events at most. */
  public static ConsoleSink jsonLines(PrintStream out) {
    return new ConsoleSink(out, Format.JSON_LINES, false, 4096, null);
  }

  /** Human-readable text to {@code out}, coloured if {@link #colourWanted(PrintStream)}. */
  public static ConsoleSink human(PrintStream out) {
    return new ConsoleSink(out, Format.HUMAN, colourWanted(out), 4096, null);
  }

  /** Colour only for a terminal: stdout itself, attached to a console, and NO_COLOR unset. */
  public static boolean colourWanted(PrintStream out) {
    return out == System.out && System.console() != null && System.getenv("NO_COLOR") == null;
  }

  @Override
  protected Mono<Void> deliver(SecurityEvent event) {
    return Mono.fromCallable(
            () -> {
              if (format == Format.JSON_LINES) {
                line.reset();
                EventJson.mapper().writeValue(line, event);
                line.write('\n');
                line.writeTo(out);
              } else {
                out.write(render(event, colour).getBytes(StandardCharsets.UTF_8));
              }
              return Boolean.TRUE;
            })
        .then();
  }

  @Override
  protected Mono<Void> completeBatch() {
    return Mono.fromCallable(
            () -> {
              out.flush();
              if (out instanceof PrintStream ps && ps.checkError()) {
                throw new IOException("write to console failed");
              }
              return Boolean.TRUE;
            })
        .then();
  }

  /**
   * One event as text: a headline, then the coverage and findings indented below it. Always ends
   * with a newline.
   */
  public static String render(SecurityEvent e, boolean colour) {
    StringBuilder sb = new StringBuilder(256);
    sb.append(paint(colour, DIM, e.time().toString())).append(' ');
    sb.append(paint(colour, BOLD + colourOf(e.type()), e.type().name()));
    if (e.count() > 1) {
      sb.append(" x").append(e.count()).append(" since ").append(e.firstSeen());
    }
    if (!e.host().isEmpty()) {
      sb.append(" host=").append(e.host());
    }
    if (e.pid() != null) {
      sb.append(" pid=").append(e.pid());
    }
    if (e.exe() != null) {
      sb.append(' ').append(paint(colour, BOLD, String.valueOf(e.exe().path())));
      sb.append(" (dev ").append(e.exe().dev()).append(" ino ").append(e.exe().ino());
      if (e.exe().sha256() != null && !e.exe().sha256().isEmpty()) {
        sb.append(" sha256 ").append(e.exe().sha256());
      }
      sb.append(')');
    }
    sb.append(": ").append(e.reason()).append('\n');
    if (!e.coverage().isEmpty()) {
      sb.append("    coverage:");
      for (Map.Entry<String, SecurityEvent.ScopeCoverage> c : e.coverage().entrySet()) {
        String status = c.getValue().status();
        sb.append(' ')
            .append(c.getKey())
            .append('=')
            .append(paint(colour, statusColour(status), status));
        if (!c.getValue().reason().isEmpty() && !"VERIFIED".equals(status)) {
          sb.append(" (").append(c.getValue().reason()).append(')');
        }
      }
      sb.append('\n');
    }
    for (SecurityEvent.EventFinding f : e.findings()) {
      sb.append("    ")
          .append(f.type())
          .append(" [")
          .append(f.scope())
          .append("] ")
          .append(f.reason());
      if (!f.detail().isEmpty()) {
        sb.append(' ').append(byKey(f.detail()));
      }
      sb.append('\n');
    }
    if (!e.details().isEmpty()) {
      sb.append("    details: ").append(byKey(e.details())).append('\n');
    }
    if (e.incident() != null) {
      SecurityEvent.Incident i = e.incident();
      sb.append("    incident ")
          .append(i.id())
          .append(' ')
          .append(i.state())
          .append(" (opened ")
          .append(i.opened())
          .append(", ")
          .append(i.occurrences())
          .append(" found, ")
          .append(i.sinceLastReport())
          .append(" since the last report");
      if (i.resolution() != null) {
        sb.append(", resolved: ").append(i.resolution());
      } else if (i.nextReminder() != null) {
        sb.append(", next reminder ").append(i.nextReminder());
      }
      sb.append(")\n");
    }
    sb.append(paint(colour, DIM, "    id " + e.id())).append('\n');
    return sb.toString();
  }

  private static String paint(boolean colour, String code, String text) {
    return colour ? code + text + RESET : text;
  }

  private static String colourOf(EventType type) {
    return switch (type) {
      case UNKNOWN_EXECUTION -> "\u001b[33m"; // yellow
      case VERIFY_FAILED, RUNTIME_DRIFT, SELF_INTEGRITY_FAILURE -> "\u001b[31m"; // red
      case VERIFICATION_DEGRADED -> "\u001b[35m"; // magenta
    };
  }

  private static String statusColour(String status) {
    return switch (status) {
      case "VERIFIED" -> "\u001b[32m";
      case "FAILED" -> "\u001b[31m";
      case "NOT_VERIFIED" -> "\u001b[33m";
      default -> DIM;
    };
  }

  /**
   * A map's entries by key, as the JSON sinks write them: details built with {@code Map.of} iterate
   * in an order that changes from one JVM to the next, and the same event should read the same.
   */
  private static String byKey(Map<String, ?> m) {
    return m.size() < 2 ? m.toString() : new TreeMap<>(m).toString();
  }
}
