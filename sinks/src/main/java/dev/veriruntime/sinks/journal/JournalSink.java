package dev.veriruntime.sinks.journal;

import dev.veriruntime.sinks.BoundedSink;
import dev.veriruntime.sinks.SecurityEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * The embedded default sink: every event becomes a record in the {@link EvidenceJournal}. Events
 * are appended on the sink's drain thread and forced once per batch (up to {@code batchSize}
 * records per {@code fdatasync}), so under load the fsync cost is shared; an event counts as
 * delivered only once its batch is on disk.
 *
 * <p>A {@link DurableListener} is told of each event once its batch is on disk, with the sequence
 * number the journal gave it (the daemon's event stream follows the journal this way: what a reader
 * sees live is what a reader who comes later replays).
 *
 * <p>Owns the journal: {@link #close()} flushes, checkpoints and closes it. Thread-safe as every
 * {@link dev.veriruntime.sinks.Sink}.
 */
public final class JournalSink extends BoundedSink {
  /** Told of events once they are durable. */
  @FunctionalInterface
  public interface DurableListener {
    /** Nobody listens. */
    DurableListener NONE = (seq, event) -> {};

    /**
     * Called on the sink's drain thread, in sequence order, after the batch holding the event was
     * forced to disk. Must not block (it holds up the journal); a runtime exception is noted as the
     * sink's last failure and does not fail the batch.
     */
    void durable(long seq, SecurityEvent event);
  }

  private record Appended(long seq, SecurityEvent event) {}

  /** Default bound on pending events. */
  public static final int DEFAULT_CAPACITY = 65_536;

  /** Default records per fsync. */
  public static final int DEFAULT_BATCH = 512;

  private final EvidenceJournal journal;
  private final DurableListener listener;
  // Drain thread only (deliver and completeBatch never run concurrently).
  private final List<Appended> batch = new ArrayList<>();

  private JournalSink(
      EvidenceJournal journal,
      int capacity,
      int batchSize,
      Scheduler scheduler,
      DurableListener listener) {
    super("journal", capacity, batchSize, scheduler, Duration.ofSeconds(10));
    this.journal = journal;
    this.listener = Objects.requireNonNull(listener, "listener");
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
    return open(stateDir, options, capacity, batchSize, scheduler, DurableListener.NONE);
  }

  /** As {@link #open(Path, JournalOptions, int, int, Scheduler)}, telling {@code listener}. */
  public static JournalSink open(
      Path stateDir,
      JournalOptions options,
      int capacity,
      int batchSize,
      Scheduler scheduler,
      DurableListener listener)
      throws IOException {
    return new JournalSink(
        EvidenceJournal.open(stateDir, options), capacity, batchSize, scheduler, listener);
  }

  /** {@link #open} with default options, capacity and batch size, on a dedicated thread. */
  public static JournalSink open(Path stateDir) throws IOException {
    return open(stateDir, DurableListener.NONE);
  }

  /** As {@link #open(Path)}, telling {@code listener} of each durable event. */
  public static JournalSink open(Path stateDir, DurableListener listener) throws IOException {
    return open(
        stateDir, JournalOptions.defaults(), DEFAULT_CAPACITY, DEFAULT_BATCH, null, listener);
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
    return Mono.fromCallable(() -> journal.append(event))
        .doOnNext(seq -> batch.add(new Appended(seq, event)))
        .then();
  }

  @Override
  protected Mono<Void> completeBatch() {
    return Mono.fromRunnable(
        () -> {
          try {
            journal.sync();
          } catch (IOException e) {
            // Rolled back: these sequence numbers will be given again, nobody may see them.
            batch.clear();
            throw new UncheckedIOException(e);
          }
          for (Appended a : batch) {
            try {
              listener.durable(a.seq(), a.event());
            } catch (RuntimeException e) {
              noteFailure(e);
            }
          }
          batch.clear();
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
