package dev.veriruntime.sinks;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.UncheckedIOException;

/**
 * The one JSON configuration every sink and the CLI use for {@link SecurityEvent}s and evidence:
 * instants as ISO-8601 strings ({@code 2026-11-23T07:40:00.123Z}), map keys sorted (so the same
 * event always serialises to the same bytes), unknown properties ignored when reading (newer
 * writers, older readers). The returned mapper is shared and thread-safe; do not reconfigure it,
 * call {@link #newMapper()} for a private copy.
 */
public final class EventJson {
  private static final ObjectMapper SHARED = newMapper();

  private EventJson() {}

  /** The shared, thread-safe mapper. */
  public static ObjectMapper mapper() {
    return SHARED;
  }

  /** A fresh mapper with the same configuration, for callers that need to change it. */
  public static ObjectMapper newMapper() {
    return JsonMapper.builder()
        .addModule(new JavaTimeModule())
        // After JavaTimeModule, so that it writes instants: the same text, less garbage.
        .addModule(new SimpleModule("iso-instant").addSerializer(new IsoInstantSerializer()))
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .build();
  }

  /** One event as a single line of compact JSON (no trailing newline). */
  public static String toJson(SecurityEvent event) {
    try {
      return SHARED.writeValueAsString(event);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      // A SecurityEvent holds only strings, numbers, maps and lists: this is a bug, not bad input.
      throw new UncheckedIOException("cannot serialise event " + event.id(), e);
    }
  }

  /**
   * Parses one event.
   *
   * @throws UncheckedIOException if {@code json} is not a valid event
   */
  public static SecurityEvent fromJson(String json) {
    try {
      return SHARED.readValue(json, SecurityEvent.class);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new UncheckedIOException("not a SecurityEvent: " + e.getOriginalMessage(), e);
    }
  }
}
