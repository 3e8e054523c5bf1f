package dev.veriruntime.sinks.webhook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import java.io.UncheckedIOException;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/**
 * The body a {@link WebhookSink} POSTs for one event. All bodies are JSON ({@code
 * application/json}).
 */
public enum WebhookPayload {
  /** The event exactly as {@link EventJson} writes it. */
  EVENT {
    @Override
    public String render(SecurityEvent e) {
      return EventJson.toJson(e);
    }
  },

  /** A Slack incoming-webhook message: {@code {"text": "..."}} with mrkdwn emphasis. */
  SLACK {
    @Override
    public String render(SecurityEvent e) {
      StringBuilder text = new StringBuilder();
      text.append('*').append(e.type().name()).append('*');
      if (!e.host().isEmpty()) {
        text.append(" on `").append(e.host()).append('`');
      }
      if (e.count() > 1) {
        text.append(" (x").append(e.count()).append(" since ").append(e.firstSeen()).append(')');
      }
      text.append(": ").append(e.reason());
      if (e.exe() != null) {
        text.append("\nexe `").append(e.exe().path()).append('`');
        if (e.exe().sha256() != null) {
          text.append(" sha256 `").append(e.exe().sha256()).append('`');
        }
      }
      if (e.pid() != null) {
        text.append(" pid ").append(e.pid());
      }
      text.append("\nid ").append(e.id());
      ObjectNode body = EventJson.mapper().createObjectNode();
      body.put("text", text.toString());
      return write(body);
    }
  },

  /**
   * Falco's JSON alert shape ({@code output, priority, rule, time, output_fields}, plus {@code
   * source}, {@code hostname}, {@code tags}) so that falcosidekick can route VeriRuntime events to
   * its outputs. Rules are named {@code "VeriRuntime <TYPE>"}; {@code output_fields} use Falco
   * field names where one exists ({@code proc.pid}, {@code proc.exepath}, {@code evt.time.iso8601})
   * and {@code veriruntime.*} for the rest.
   */
  FALCO {
    @Override
    public String render(SecurityEvent e) {
      ObjectNode body = EventJson.mapper().createObjectNode();
      String time = NANOS.format(e.time().truncatedTo(ChronoUnit.NANOS));
      StringBuilder output = new StringBuilder();
      output
          .append(time)
          .append(": ")
          .append(priority(e.type()))
          .append(' ')
          .append(e.type().name())
          .append(' ')
          .append(e.reason());
      if (e.exe() != null) {
        output.append(" (exe=").append(e.exe().path());
        if (e.pid() != null) {
          output.append(" pid=").append(e.pid());
        }
        output.append(" count=").append(e.count()).append(')');
      }
      body.put("output", output.toString());
      body.put("priority", priority(e.type()));
      body.put("rule", "VeriRuntime " + e.type().name());
      body.put("time", time);
      body.put("source", "veriruntime");
      body.put("hostname", e.host());
      body.putArray("tags").add("veriruntime").add(e.type().name().toLowerCase());
      ObjectNode fields = body.putObject("output_fields");
      fields.put("evt.time.iso8601", e.time().toString());
      if (e.pid() != null) {
        fields.put("proc.pid", e.pid());
      }
      if (e.exe() != null) {
        fields.put("proc.exepath", e.exe().path());
        fields.put("veriruntime.exe.dev", e.exe().dev());
        fields.put("veriruntime.exe.ino", e.exe().ino());
        fields.put("veriruntime.exe.sha256", e.exe().sha256());
      }
      fields.put("veriruntime.id", e.id());
      fields.put("veriruntime.type", e.type().name());
      fields.put("veriruntime.count", e.count());
      fields.put("veriruntime.first_seen", e.firstSeen().toString());
      fields.put("veriruntime.last_seen", e.lastSeen().toString());
      fields.put("veriruntime.reason", e.reason());
      return write(body);
    }
  };

  private static final DateTimeFormatter NANOS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.nnnnnnnnn'Z'")
          .withZone(java.time.ZoneOffset.UTC);

  /** The request body for {@code event}. */
  public abstract String render(SecurityEvent event);

  /** Falco priority names: drift and self-integrity are the most urgent. */
  static String priority(EventType type) {
    return switch (type) {
      case SELF_INTEGRITY_FAILURE -> "Alert";
      case RUNTIME_DRIFT -> "Critical";
      case VERIFY_FAILED -> "Error";
      case UNKNOWN_EXECUTION -> "Warning";
      case VERIFICATION_DEGRADED -> "Notice";
    };
  }

  private static String write(ObjectNode body) {
    try {
      return EventJson.mapper().writeValueAsString(body);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
