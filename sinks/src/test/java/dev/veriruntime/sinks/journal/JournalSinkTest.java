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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.scheduler.Scheduler;

class JournalSinkTest extends SinkContractTest {
  @TempDir Path state;
  private JournalSink sink;
  private Path immutable;

  @AfterEach
  void makeWritableAgain() throws Exception {
    if (immutable != null) {
      chattr("-i", immutable);
    }
  }

  private static boolean chattr(String flag, Path file) throws Exception {
    Process p =
        new ProcessBuilder("chattr", flag, file.toString()).redirectErrorStream(true).start();
    return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
  }

  @Override
  protected Sink newSink(int capacity, Scheduler scheduler) throws IOException {
    sink = JournalSink.open(state, JournalFixtures.options(), capacity, 16, scheduler);
    return sink;
  }

  /**
   * A real write failure: the journal file is made immutable ({@code chattr +i}), so the kernel
   * refuses every write to it with EPERM, even through the descriptor already open. Needs root and
   * a file system with inode flags (ext4, xfs, btrfs); skipped otherwise.
   */
  @Override
  protected void breakDownstream() throws Exception {
    Path file = journalFile();
    Assumptions.assumeTrue(
        chattr("+i", file), "chattr +i refused (not root, or no inode flags on this file system)");
    immutable = file;
  }

  private Path journalFile() throws IOException {
    List<Path> files = EvidenceJournal.journalFiles(state.resolve("journal"));
    return files.get(files.size() - 1);
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
    try (JournalSink s = JournalSink.open(state, JournalFixtures.options(), 1024, 64, null)) {
      for (int i = 0; i < 300; i++) {
        assertThat(s.emit(JournalFixtures.event(i))).isTrue();
      }
      s.flush().block(timeout());
      assertThat(s.stats().delivered()).isEqualTo(300);
      assertThat(s.journal().durableSeq()).isGreaterThanOrEqualTo(300);
    }
    JournalReport report = new JournalVerifier(null).verify(state);
    assertThat(report.problems()).isEmpty();
    assertThat(report.events()).isEqualTo(300);
  }

  @Test
  void aFailingDiskFailsTheBatchButLeavesAVerifiableJournal() throws Exception {
    try (JournalSink s = JournalSink.open(state, JournalFixtures.options(), 64, 8, null)) {
      s.emit(JournalFixtures.event(0));
      s.flush().block(timeout());
      breakDownstream();
      for (int i = 1; i <= 3; i++) {
        s.emit(JournalFixtures.event(i));
      }
      s.flush().block(timeout());
      assertThat(s.stats().failed()).isEqualTo(3);
      assertThat(s.stats().lastFailure()).contains("Operation not permitted");

      assertThat(chattr("-i", immutable)).isTrue();
      s.emit(JournalFixtures.event(4));
      s.flush().block(timeout());
      assertThat(s.stats().delivered()).isEqualTo(2);
    }
    JournalReport report = new JournalVerifier(null).verify(state);
    assertThat(report.problems()).isEmpty();
    assertThat(report.events()).isEqualTo(2);
  }
}
