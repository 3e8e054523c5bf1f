package dev.veriruntime.sinks.journal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.Sink;
import dev.veriruntime.sinks.testing.SinkContractTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.scheduler.Scheduler;

class JournalSinkTest extends SinkContractTest {
  @TempDir Path state;

  @Override
  protected Sink newSink(int capacity, Scheduler scheduler) throws IOException {
    return JournalSink.open(state, JournalFixtures.options(), capacity, 16, scheduler);
  }

  @Override
  protected Optional<List<String>> deliveredIds() throws IOException {
    List<String> ids = new ArrayList<>();
    for (Path file : EvidenceJournal.journalFiles(state.resolve("journal"))) {
      for (String line : Files.readAllLines(file)) {
        JsonNode n = EventJson.mapper().readTree(line);
        if (n.get("kind").asText().equals("event")) {
          ids.add(n.get("event").get("id").asText());
        }
      }
    }
    return Optional.of(ids);
  }

  @Test
  void whatTheSinkWroteVerifies() throws Exception {
    try (JournalSink sink = JournalSink.open(state, JournalFixtures.options(), 1024, 64, null)) {
      for (int i = 0; i < 300; i++) {
        assertThat(sink.emit(JournalFixtures.event(i))).isTrue();
      }
      sink.flush().block(timeout());
      assertThat(sink.stats().delivered()).isEqualTo(300);
      assertThat(sink.journal().durableSeq()).isGreaterThanOrEqualTo(300);
    }
    JournalReport report = new JournalVerifier(null).verify(state);
    assertThat(report.problems()).isEmpty();
    assertThat(report.events()).isEqualTo(300);
  }
}
