package dev.veriruntime.sinks.syslog;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Objects;

/**
 * Encodes a {@link SecurityEvent} as one RFC 5424 syslog message:
 *
 * <pre>
 * &lt;PRI&gt;1 2026-11-23T08:00:00.123456Z node-a veriruntime 4711 VERIFY_FAILED [veriruntime@32473 id="…" type="VERIFY_FAILED" count="3" pid="77" exe="/usr/bin/x" dev="2049" ino="42" sha256="…"] .text differs from the reference
 * </pre>
 *
 * PRI is facility × 8 + severity, severity from the event type (self-integrity = alert, drift =
 * crit, verify failed = err, unknown = warning, degraded = notice). The SD-ID uses 32473, the
 * private enterprise number RFC 5612 reserves for documentation, until VeriRuntime registers its
 * own. Header fields are limited to printable US-ASCII and their RFC lengths; the whole message is
 * cut to {@code maxBytes} on a UTF-8 character boundary. Immutable, thread-safe.
 */
public final class Rfc5424Encoder {
  /** Structured-data id of VeriRuntime's parameters. */
  public static final String SD_ID = "veriruntime@32473";

  private static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

  private final int facility;
  private final String appName;
  private final String procId;
  private final String fallbackHost;
  private final int maxBytes;

  /**
   * @param facility syslog facility 0..23 (e.g. 10 = authpriv)
   * @param appName APP-NAME (at most 48 printable ASCII characters)
   * @param procId PROCID, normally this JVM's pid
   * @param fallbackHost HOSTNAME when the event has none
   * @param maxBytes cut longer messages to this many bytes (at least 480, RFC 5424 §6.1)
   */
  public Rfc5424Encoder(
      int facility, String appName, String procId, String fallbackHost, int maxBytes) {
    if (facility < 0 || facility > 23) {
      throw new IllegalArgumentException("facility must be 0..23: " + facility);
    }
    if (maxBytes < 480) {
      throw new IllegalArgumentException("maxBytes must be >= 480");
    }
    this.facility = facility;
    this.appName = headerField(appName, 48);
    this.procId = headerField(procId, 128);
    this.fallbackHost = headerField(fallbackHost, 255);
    this.maxBytes = maxBytes;
  }

  /** Severity (RFC 5424 table 2) of an event type. */
  public static int severity(EventType type) {
    return switch (type) {
      case SELF_INTEGRITY_FAILURE -> 1; // alert
      case RUNTIME_DRIFT -> 2; // critical
      case VERIFY_FAILED -> 3; // error
      case UNKNOWN_EXECUTION -> 4; // warning
      case VERIFICATION_DEGRADED -> 5; // notice
    };
  }

  /** The message as UTF-8 bytes, without any transport framing. */
  public byte[] encode(SecurityEvent e) {
    Objects.requireNonNull(e, "event");
    StringBuilder sb = new StringBuilder(256);
    sb.append('<').append(facility * 8 + severity(e.type())).append(">1 ");
    sb.append(TIMESTAMP.format(e.time())).append(' ');
    String host = headerField(e.host(), 255);
    sb.append("-".equals(host) ? fallbackHost : host).append(' ');
    sb.append(appName).append(' ').append(procId).append(' ');
    sb.append(headerField(e.type().name(), 32)).append(' ');
    sb.append('[').append(SD_ID);
    param(sb, "id", e.id());
    param(sb, "type", e.type().name());
    param(sb, "count", Long.toString(e.count()));
    if (e.count() > 1) {
      param(sb, "firstSeen", e.firstSeen().toString());
      param(sb, "lastSeen", e.lastSeen().toString());
    }
    if (e.pid() != null) {
      param(sb, "pid", e.pid().toString());
    }
    if (e.exe() != null) {
      param(sb, "exe", String.valueOf(e.exe().path()));
      param(sb, "dev", Long.toString(e.exe().dev()));
      param(sb, "ino", Long.toString(e.exe().ino()));
      if (e.exe().sha256() != null) {
        param(sb, "sha256", e.exe().sha256());
      }
    }
    sb.append(']');
    if (!e.reason().isEmpty()) {
      sb.append(' ').append(e.reason().replace('\n', ' '));
    }
    return utf8Prefix(sb, maxBytes);
  }

  private static void param(StringBuilder sb, String name, String value) {
    sb.append(' ').append(name).append("=\"");
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      // RFC 5424 §6.3.3: '"', '\' and ']' are escaped inside PARAM-VALUE.
      if (c == '"' || c == '\\' || c == ']') {
        sb.append('\\');
      }
      sb.append(c);
    }
    sb.append('"');
  }

  /** Printable US-ASCII without spaces, at most {@code max} characters; "-" (NILVALUE) if empty. */
  static String headerField(String value, int max) {
    if (value == null || value.isEmpty()) {
      return "-";
    }
    StringBuilder sb = new StringBuilder(Math.min(value.length(), max));
    for (int i = 0; i < value.length() && sb.length() < max; i++) {
      char c = value.charAt(i);
      sb.append(c >= 33 && c <= 126 ? c : '_');
    }
    return sb.toString();
  }

  private static byte[] utf8Prefix(CharSequence text, int maxBytes) {
    CharsetEncoder enc =
        StandardCharsets.UTF_8
            .newEncoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    ByteBuffer out = ByteBuffer.allocate(maxBytes);
    // An encoder stops before a character that does not fit whole: the cut is on a boundary.
    enc.encode(CharBuffer.wrap(text), out, true);
    byte[] bytes = new byte[out.position()];
    out.flip().get(bytes);
    return bytes;
  }
}
