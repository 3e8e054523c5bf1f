package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;

/**
 * What every {@code --json} option prints: one indented JSON document, flushed. One mapper for all
 * commands, so their output looks alike. Thread-safe (Jackson's mapper is, once configured).
 */
final class JsonOutput {
  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private JsonOutput() {}

  /** An empty JSON object to fill and {@link #print}. */
  static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  /** Writes {@code tree} (a JSON node or anything Jackson can serialize) as one document. */
  static void print(PrintWriter out, Object tree) {
    try {
      out.println(MAPPER.writeValueAsString(tree));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    out.flush();
  }
}
