package dev.veriruntime.agent;

import dev.veriruntime.sinks.journal.JournalReport;
import dev.veriruntime.sinks.journal.JournalSink;
import dev.veriruntime.sinks.journal.JournalVerifier;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The evidence journal's verification status for Health: the chain verified by {@link
 * JournalVerifier} (as {@code veriruntime journal verify} does), at most once per {@link #EVERY}
 * because it reads every journal file, and only when asked. Thread safe.
 */
final class JournalStatus {
  /** How long a verification result is reused. */
  static final Duration EVERY = Duration.ofSeconds(30);

  /**
   * What Health shows.
   *
   * @param intact no tampering or loss found
   * @param problems the first problems found (at most 5)
   */
  record View(
      String directory,
      Instant verifiedAt,
      boolean intact,
      long records,
      long lastSeq,
      long durableSeq,
      long checkpoints,
      long lastCheckpointSeq,
      Instant lastCheckpointAt,
      List<String> problems,
      String error) {}

  private final JournalSink journal;
  private final Clock clock;
  private View last;

  JournalStatus(JournalSink journal, Clock clock) {
    this.journal = journal;
    this.clock = clock;
  }

  synchronized View view() {
    Instant now = clock.instant();
    if (last != null && Duration.between(last.verifiedAt(), now).compareTo(EVERY) < 0) {
      return last;
    }
    String dir = journal.journal().directory().toString();
    long durable = journal.journal().durableSeq();
    try {
      JournalReport r = new JournalVerifier(null).verify(journal.journal().directory());
      last =
          new View(
              dir,
              now,
              r.intact(),
              r.records(),
              r.lastSeq(),
              durable,
              r.checkpoints(),
              r.lastCheckpointSeq(),
              r.lastCheckpointAt(),
              r.problems().stream().limit(5).map(Object::toString).toList(),
              null);
    } catch (IOException | RuntimeException e) {
      last = new View(dir, now, false, 0, 0, durable, 0, 0, null, List.of(), e.getMessage());
    }
    return last;
  }
}
