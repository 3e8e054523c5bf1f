package dev.veriruntime.sinks.journal;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Small journals for the journal tests. */
final class JournalFixtures {
  static final Instant T0 = Instant.parse("2026-11-23T08:00:00Z");

  private JournalFixtures() {}

  static JournalOptions options() {
    return JournalOptions.defaults().withClock(Clock.fixed(T0, ZoneOffset.UTC));
  }

  static SecurityEvent event(int i) {
    return SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, T0.plusSeconds(i))
        .host("node-a")
        .pid(100 + i)
        .exe("/tmp/x" + i, 2049, 500 + i, "cd".repeat(32))
        .reason("no reference " + i)
        .coverage("DISK_HASH", "VERIFIED", "")
        .finding("NO_REFERENCE", "DISK_HASH", "unknown digest", Map.of("k", "v" + i))
        .build();
  }

  /**
   * Writes {@code n} events, synced in batches of {@code batch}, then closes (final checkpoint).
   */
  static List<SecurityEvent> write(Path state, JournalOptions options, int n, int batch)
      throws IOException {
    List<SecurityEvent> written = new ArrayList<>();
    try (EvidenceJournal j = EvidenceJournal.open(state, options)) {
      for (int i = 0; i < n; i++) {
        SecurityEvent e = event(i);
        j.append(e);
        written.add(e);
        if ((i + 1) % batch == 0) {
          j.sync();
        }
      }
    }
    return written;
  }

  static Path journalFile(Path state, int index) {
    return state.resolve("journal").resolve(JournalFormat.fileName(index));
  }

  static List<String> lines(Path file) throws IOException {
    return new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
  }

  static void writeLines(Path file, List<String> lines) throws IOException {
    Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
  }
}
