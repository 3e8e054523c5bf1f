package dev.veriruntime.api;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.veriruntime.verifier.Coverage;
import dev.veriruntime.verifier.ScopeResult;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The one JSON mapping of the Core API, shared by every form so they print identically. Instants
 * are ISO-8601 strings, not numbers. A {@link Coverage} is an object keyed by scope name, in scope
 * order, each value {@code {"status": ..., "reason": ...}}: the same shape as the {@code coverage}
 * of an emitted event. Thread safe (the mapper is configured once, then only used).
 */
public final class ApiJson {
  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .registerModule(new JavaTimeModule())
          .registerModule(
              new SimpleModule("veriruntime-api")
                  .addSerializer(Coverage.class, new CoverageSerializer()))
          // FAIL_ON_EMPTY_BEANS stays on: a result type with no visible properties must fail
          // loudly (INTERNAL) rather than print as {} and look like an answer.
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

  private ApiJson() {}

  public static ObjectMapper mapper() {
    return MAPPER;
  }

  /**
   * Convert any result (record, map, verdict, JsonNode) to the tree a remote caller would parse
   * from the wire. A direct {@code valueToTree} is not enough: it keeps a {@code long 5} as a
   * LongNode where the parser reads an IntNode, and the two trees would not be equal.
   */
  static JsonNode normalize(Object value) throws JsonProcessingException {
    try {
      return MAPPER.readTree(MAPPER.writeValueAsBytes(value));
    } catch (JsonProcessingException e) {
      throw e;
    } catch (IOException e) {
      // Reading a byte array does no I/O.
      throw new UncheckedIOException(e);
    }
  }

  private static final class CoverageSerializer extends StdSerializer<Coverage> {
    private static final long serialVersionUID = 1L;

    CoverageSerializer() {
      super(Coverage.class);
    }

    @Override
    public void serialize(Coverage coverage, JsonGenerator gen, SerializerProvider provider)
        throws IOException {
      gen.writeStartObject();
      for (ScopeResult r : coverage.results().values()) {
        gen.writeObjectFieldStart(r.scope().name());
        gen.writeStringField("status", r.status().name());
        gen.writeStringField("reason", r.reason());
        gen.writeEndObject();
      }
      gen.writeEndObject();
    }
  }

  /** The error body {@code {"error": CODE, "message": "..."}}. */
  static ObjectNode error(ApiException.Code code, String message) {
    ObjectNode node = MAPPER.createObjectNode();
    node.put("error", code.name());
    node.put("message", message == null ? "" : message);
    return node;
  }
}
