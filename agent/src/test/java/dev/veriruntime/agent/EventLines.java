package dev.veriruntime.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** The console's JSON lines, parsed as they are written; other lines are ignored. Thread-safe. */
final class EventLines extends OutputStream {
  /** Added to each event: when its line reached this stream (the test's clock). */
  static final String RECEIVED = "_receivedAt";

  private final ObjectMapper json = new ObjectMapper();
  private final ByteArrayOutputStream line = new ByteArrayOutputStream();
  private final List<JsonNode> parsed = new CopyOnWriteArrayList<>();

  @Override
  public synchronized void write(int b) throws IOException {
    if (b != '\n') {
      line.write(b);
      return;
    }
    String text = line.toString(StandardCharsets.UTF_8);
    line.reset();
    if (text.startsWith("{")) {
      JsonNode event = json.readTree(text);
      if (event instanceof ObjectNode o) {
        o.put(RECEIVED, Instant.now().toString());
      }
      parsed.add(event);
    }
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) throws IOException {
    for (int i = off; i < off + len; i++) {
      write(b[i]);
    }
  }

  List<JsonNode> all() {
    return List.copyOf(parsed);
  }
}
