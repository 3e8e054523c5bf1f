package dev.veriruntime.api.intake;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.veriruntime.api.intake.AlertRejected.Reason;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Reads the two alert formats (docs/api.md) into {@link Alert}s. Strict about what it uses (types,
 * lengths, control characters, absolute paths), tolerant of fields it does not use, so a newer
 * Falco or falcosidekick with more fields still gets through. Stateless; thread safe.
 *
 * <h2>Falco</h2>
 *
 * Falco's JSON output ({@code json_output: true}), one alert per body, as Falco's {@code
 * http_output}/{@code program_output} and falcosidekick's webhook send it: {@code rule} (required),
 * {@code priority}, {@code time} (RFC 3339), {@code output}, {@code source}, {@code tags}, {@code
 * hostname}, {@code uuid} (added by falcosidekick) and {@code output_fields}, of which the intake
 * uses {@code proc.pid} (the host pid), {@code proc.exepath} (the executable's full path, as the
 * kernel resolved it), {@code proc.name} and {@code container.id}. {@code proc.exe} is argv[0] and
 * is never used to name a file. Falco writes {@code <NA>} or null for a value it does not have.
 *
 * <h2>EDR</h2>
 *
 * <pre>{@code
 * {"source": "acme-edr", "id": "A-17", "pid": 4242, "path": "/usr/bin/x",
 *  "rule": "Suspicious loader", "severity": "high", "time": "2026-12-03T14:00:00Z", "hostname": "web-1"}
 * }</pre>
 *
 * {@code source} and {@code id} are required, and a {@code pid} or a {@code path} (or both).
 */
public final class AlertParsers {
  static final int MAX_TEXT = 256;
  private static final Pattern SOURCE = Pattern.compile("[A-Za-z0-9._:@/-]{1,64}");
  private static final Pattern CONTROL = Pattern.compile("\\p{Cntrl}");
  private static final String NOT_AVAILABLE = "<NA>";

  private static final ObjectMapper JSON =
      JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

  private AlertParsers() {}

  /** The alert in {@code body}, read as {@code format}. */
  public static Alert parse(AlertFormat format, byte[] body) throws AlertRejected {
    JsonNode root = tree(body);
    return format == AlertFormat.FALCO ? falco(root, body) : edr(root);
  }

  private static JsonNode tree(byte[] body) throws AlertRejected {
    if (body.length == 0) {
      throw malformed("the body is empty; send one alert as a JSON object");
    }
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw malformed("malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw malformed("unreadable body: " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw malformed("an alert is a JSON object, got " + (root == null ? "nothing" : kind(root)));
    }
    return root;
  }

  static Alert falco(JsonNode root, byte[] body) throws AlertRejected {
    String rule = text(root, "rule", true);
    JsonNode fields = root.get("output_fields");
    if (fields == null || !fields.isObject()) {
      throw malformed(
          "Falco alert without an output_fields object: set json_output: true in falco.yaml");
    }
    Integer pid = pid(fields, "proc.pid");
    // A memfd or an anonymous executable has no path ("memfd:x"); its pid still names it.
    String path = absolutePath(fields, "proc.exepath", false);
    if (pid == null && path == null) {
      throw malformed(
          "Falco rule '"
              + rule
              + "' names neither proc.pid nor proc.exepath in output_fields: add them to the"
              + " rule's output or to append_output in falco.yaml");
    }
    String uuid = text(root, "uuid", false);
    return new Alert(
        AlertFormat.FALCO,
        "falco",
        uuid == null ? "sha256:" + digest(body) : uuid,
        rule,
        text(root, "priority", false),
        time(root, "time"),
        pid,
        path,
        value(fields, "proc.name"),
        value(fields, "container.id"),
        text(root, "hostname", false),
        tags(root));
  }

  static Alert edr(JsonNode root) throws AlertRejected {
    String source = text(root, "source", true);
    if (!SOURCE.matcher(source).matches()) {
      throw malformed(
          "source must be 1 to 64 of letters, digits and ._:@/- (it names the sender), got \""
              + shown(source)
              + "\"");
    }
    JsonNode idNode = root.get("id");
    String id;
    if (idNode != null && idNode.isIntegralNumber()) {
      id = idNode.asText();
    } else {
      id = text(root, "id", true);
    }
    Integer pid = pid(root, "pid");
    String path = absolutePath(root, "path", true);
    if (pid == null && path == null) {
      throw malformed("an EDR alert names a pid or an absolute path (or both)");
    }
    return new Alert(
        AlertFormat.EDR,
        source,
        id,
        text(root, "rule", false),
        text(root, "severity", false),
        time(root, "time"),
        pid,
        path,
        null,
        text(root, "container", false),
        text(root, "hostname", false),
        List.of());
  }

  /** A pid given as a number (or, as some forwarders do, a string of digits); null if absent. */
  private static Integer pid(JsonNode parent, String field) throws AlertRejected {
    JsonNode n = parent.get(field);
    if (n == null || n.isNull() || (n.isTextual() && n.asText().equals(NOT_AVAILABLE))) {
      return null;
    }
    long value;
    if (n.isIntegralNumber() && n.canConvertToLong()) {
      value = n.asLong();
    } else if (n.isTextual() && n.asText().matches("[0-9]{1,10}")) {
      value = Long.parseLong(n.asText());
    } else {
      throw malformed(field + " must be a positive integer, got " + shown(n.toString()));
    }
    if (value <= 0 || value > Integer.MAX_VALUE) {
      throw malformed(field + " must be a positive integer, got " + value);
    }
    return (int) value;
  }

  /**
   * An absolute path; null if absent. A relative one names no file safely: refused when {@code
   * strict}, else taken as absent.
   */
  private static String absolutePath(JsonNode parent, String field, boolean strict)
      throws AlertRejected {
    String p = value(parent, field);
    if (p == null || (!strict && !p.startsWith("/"))) {
      return null;
    }
    if (!p.startsWith("/")) {
      throw malformed(field + " must be an absolute path, got \"" + shown(p) + "\"");
    }
    if (p.length() > 4096 || p.indexOf('\0') >= 0) {
      throw malformed(field + " is not a usable path");
    }
    return p;
  }

  /** A text value that may be Falco's {@code <NA>} or null (both: absent). */
  private static String value(JsonNode parent, String field) throws AlertRejected {
    JsonNode n = parent.get(field);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isTextual()) {
      throw malformed(field + " must be a string, got " + kind(n));
    }
    String s = n.asText();
    return s.isEmpty() || s.equals(NOT_AVAILABLE) ? null : checked(field, s, 4096);
  }

  private static String text(JsonNode parent, String field, boolean required) throws AlertRejected {
    JsonNode n = parent.get(field);
    if (n == null || n.isNull()) {
      if (required) {
        throw malformed("missing field " + field);
      }
      return null;
    }
    if (!n.isTextual()) {
      throw malformed(field + " must be a string, got " + kind(n));
    }
    String s = n.asText().strip();
    if (s.isEmpty()) {
      if (required) {
        throw malformed("field " + field + " is empty");
      }
      return null;
    }
    return checked(field, s, MAX_TEXT);
  }

  private static String checked(String field, String s, int max) throws AlertRejected {
    if (s.length() > max) {
      throw malformed(field + " is longer than " + max + " characters");
    }
    if (CONTROL.matcher(s).find()) {
      throw malformed(field + " contains control characters");
    }
    return s;
  }

  private static Instant time(JsonNode parent, String field) throws AlertRejected {
    String t = text(parent, field, false);
    if (t == null) {
      return null;
    }
    try {
      return Instant.parse(t);
    } catch (DateTimeParseException e) {
      throw malformed(field + " must be an RFC 3339 time in UTC, got \"" + shown(t) + "\"");
    }
  }

  private static List<String> tags(JsonNode root) throws AlertRejected {
    JsonNode n = root.get("tags");
    if (n == null || n.isNull()) {
      return List.of();
    }
    if (!n.isArray()) {
      throw malformed("tags must be an array of strings, got " + kind(n));
    }
    List<String> tags = new ArrayList<>();
    for (JsonNode t : n) {
      if (!t.isTextual()) {
        throw malformed("tags must be an array of strings, got an element " + kind(t));
      }
      if (tags.size() < 64) {
        tags.add(checked("tags", t.asText(), MAX_TEXT));
      }
    }
    return tags;
  }

  private static String kind(JsonNode n) {
    return n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
  }

  private static String digest(byte[] body) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(body);
      return HexFormat.of().formatHex(d, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  private static String shown(String s) {
    String cut = s.length() > 64 ? s.substring(0, 64) + "…" : s;
    return CONTROL.matcher(cut).replaceAll("?");
  }

  private static AlertRejected malformed(String message) {
    return new AlertRejected(Reason.MALFORMED, message);
  }
}
