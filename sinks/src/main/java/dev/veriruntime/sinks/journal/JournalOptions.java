package dev.veriruntime.sinks.journal;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Tuning of the {@link EvidenceJournal}.
 *
 * @param maxFileBytes rotate to a new file once the current one reaches this size
 * @param checkpointEveryRecords sign a checkpoint after at most this many records
 * @param checkpointInterval ... or once this much time has passed since the last one (checked when
 *     a batch is forced), whichever comes first
 * @param clock time source for checkpoints, head and recovery notes
 */
public record JournalOptions(
    long maxFileBytes, int checkpointEveryRecords, Duration checkpointInterval, Clock clock) {

  public JournalOptions {
    if (maxFileBytes < 1024 || checkpointEveryRecords < 1) {
      throw new IllegalArgumentException("maxFileBytes >= 1024 and checkpointEveryRecords >= 1");
    }
    Objects.requireNonNull(checkpointInterval, "checkpointInterval");
    Objects.requireNonNull(clock, "clock");
  }

  /** 64 MiB files, a checkpoint every 1000 records or 60 s, the system clock. */
  public static JournalOptions defaults() {
    return new JournalOptions(64L << 20, 1000, Duration.ofSeconds(60), Clock.systemUTC());
  }

  public JournalOptions withMaxFileBytes(long bytes) {
    return new JournalOptions(bytes, checkpointEveryRecords, checkpointInterval, clock);
  }

  public JournalOptions withCheckpointEveryRecords(int records) {
    return new JournalOptions(maxFileBytes, records, checkpointInterval, clock);
  }

  public JournalOptions withClock(Clock newClock) {
    return new JournalOptions(maxFileBytes, checkpointEveryRecords, checkpointInterval, newClock);
  }
}
