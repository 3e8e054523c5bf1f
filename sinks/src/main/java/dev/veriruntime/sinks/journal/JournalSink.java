package dev.veriruntime.sinks.journal;

import dev.veriruntime.sinks.BoundedSink;
import dev.veriruntime.sinks.SecurityEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * The embedded default sink: every event becomes a record in the {@link EvidenceJournal}. Events
 * are appended on the sink's drain thread and forced once per batch (up to {@code batchSize}
 * records per {@code fdatasync}), so under load the fsync cost is shared; an event counts as
 * delivered only once its batch is on disk.
 *
 * <p>Owns the journal: {@link #close()} flushes, checkpoints and closes it. Thread-safe as every
 * {@link dev.veriruntime.sinks.Sink}.
 */
public final class JournalSink extends BoundedSink {
  /** Default bound on pending events. */
  public static final int DEFAULT_CAPACITY = 65_536;

  /** Default records per fsync. */
  public static final int DEFAULT_BATCH = 512;

  private final EvidenceJournal journal;

  private JournalSink(EvidenceJournal journal, int capacity, int batchSize, Scheduler scheduler) {
    super("journal", capacity, batchSize, scheduler, Duration.ofSeconds(10));
    this.journal = journal;
  }

  /**
   * Opens the journal under {@code stateDir} (recovering from a crash) and wraps it.
   *
   * @param scheduler drain scheduler, or {@code null} for a dedicated thread
   * @throws IOException if the journal cannot be opened
   */
  public static JournalSink open(
      Path stateDir, JournalOptions options, int capacity, int batchSize, Scheduler scheduler)
      throws IOException {
    return new JournalSink(EvidenceJournal.open(stateDir, options), capacity, batchSize, scheduler);
  }

  /** {@link #open} with default options, capacity and batch size, on a dedicated thread. */
  public static JournalSink open(Path stateDir) throws IOException {
    return open(stateDir, JournalOptions.defaults(), DEFAULT_CAPACITY, DEFAULT_BATCH, null);
  }

  /** The journal, for {@code GetEvidence} and recovery reports. */
  public EvidenceJournal journal() {
    return journal;
  }

  /** Shortcut for {@code journal().recoveryReport()}. */
  public Optional<JournalRecovery> recoveryReport() {
    return journal.recoveryReport();
  }

  /** Shortcut for {@code journal().evidence(ref)}. */
  public Optional<Evidence> evidence(String ref) throws IOException {
    return journal.evidence(ref);
  }

  @Override
  protected Mono<Void> deliver(SecurityEvent event) {
    return Mono.fromCallable(() -> journal.append(event)).then();
  }

  @Override
  protected Mono<Void> completeBatch() {
    return Mono.fromRunnable(
        () -> {
          try {
            journal.sync();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
          // The batch is durable; a failed checkpoint or head update is shown, not counted.
          journal.housekeepingFailure().ifPresent(this::noteFailure);
        });
  }

  @Override
  protected void closeResources() {
    try {
      journal.close();
    } catch (IOException e) {
      noteFailure(e);
    }
  }
}
