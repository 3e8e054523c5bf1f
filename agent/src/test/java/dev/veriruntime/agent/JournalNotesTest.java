package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.sinks.journal.EvidenceJournal;
import dev.veriruntime.sinks.journal.JournalEntry;
import dev.veriruntime.sinks.journal.JournalOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.scheduler.VirtualTimeScheduler;

class JournalNotesTest {
  @TempDir Path dir;
  private final VirtualTimeScheduler timer = VirtualTimeScheduler.create();
  private final AtomicInteger failed = new AtomicInteger();
  private EvidenceJournal journal;
  private JournalNotes notes;

  @BeforeEach
  void open() throws IOException {
    journal = EvidenceJournal.open(dir, JournalOptions.defaults());
    notes = new JournalNotes(journal, timer, Duration.ofSeconds(1), failed::incrementAndGet);
  }

  @AfterEach
  void close() throws IOException {
    journal.close();
    timer.dispose();
  }

  private static JournalEntry.Note note(int n) {
    return new JournalEntry.Note(Instant.EPOCH, "lineage", "note " + n, Map.of("n", n));
  }

  @Test
  void notesWaitForTheTimerAndShareOneSync() {
    long before = journal.lastSeq();
    notes.accept(note(1));
    notes.accept(note(2));
    assertThat(journal.lastSeq()).as("nothing written by the caller").isEqualTo(before);

    timer.advanceTimeBy(Duration.ofMillis(999));
    assertThat(journal.lastSeq()).isEqualTo(before);
    timer.advanceTimeBy(Duration.ofMillis(1));
    assertThat(journal.lastSeq()).isEqualTo(before + 2);
    assertThat(journal.durableSeq()).as("synced").isEqualTo(journal.lastSeq());

    notes.accept(note(3));
    timer.advanceTimeBy(Duration.ofSeconds(1));
    assertThat(journal.durableSeq())
        .as("the next note schedules its own flush")
        .isEqualTo(before + 3);
    assertThat(failed).hasValue(0);
  }

  @Test
  void aFullQueueOrAClosedOneWritesAtOnceAndCloseWritesWhatIsQueued() throws IOException {
    for (int i = 0; i < JournalNotes.CAPACITY; i++) {
      notes.accept(note(i));
    }
    assertThat(notesOnDisk()).isZero();
    notes.accept(note(-1));
    assertThat(notesOnDisk()).as("over capacity: written by the caller").isEqualTo(1);

    notes.close();
    assertThat(notesOnDisk()).isEqualTo(1 + JournalNotes.CAPACITY);
    notes.accept(note(-2));
    assertThat(notesOnDisk())
        .as("closed: written by the caller")
        .isEqualTo(2 + JournalNotes.CAPACITY);
    assertThat(failed).hasValue(0);
  }

  /** Notes in the journal's files, up to what was last forced to disk. */
  private long notesOnDisk() throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      long n = 0;
      for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).toList()) {
        n += Files.readAllLines(f).stream().filter(l -> l.contains("\"kind\":\"note\"")).count();
      }
      return n;
    }
  }

  @Test
  void aNoteTheJournalRefusesIsCountedNotThrown() throws IOException {
    notes.accept(note(1));
    journal.close();
    timer.advanceTimeBy(Duration.ofSeconds(1));
    assertThat(failed).hasValue(1);
  }
}
