package dev.veriruntime.agent;

import dev.veriruntime.sinks.journal.EvidenceJournal;
import dev.veriruntime.sinks.journal.JournalEntry;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import reactor.core.scheduler.Scheduler;

/**
 * Journal notes written on the timer's thread, not on the thread that has them. The ring reader has
 * lineage's notes: appending one serializes and hashes it, and a sync writes, forces the file to
 * disk ({@code fdatasync}) and may sign a checkpoint and replace the signed head, a millisecond or
 * more during which no record would be read. So a note is queued, and the first note in an empty
 * queue schedules one flush {@code delay} later: all queued notes appended, one sync. An idle agent
 * schedules nothing.
 *
 * <p>Nothing is dropped: with more than {@value #CAPACITY} notes waiting, or once closed, a note is
 * written at once by its caller. {@link #close()} writes what is queued; the journal must still be
 * open then. A note that could not be written is counted through {@code failed}, never thrown.
 */
final class JournalNotes implements Consumer<JournalEntry.Note>, AutoCloseable {
  static final int CAPACITY = 4096;

  private final EvidenceJournal journal;
  private final Scheduler timer;
  private final Duration delay;
  private final Runnable failed;
  // Guarded by this.
  private final List<JournalEntry.Note> queue = new ArrayList<>();
  private boolean flushDue;
  private boolean closed;

  JournalNotes(EvidenceJournal journal, Scheduler timer, Duration delay, Runnable failed) {
    this.journal = journal;
    this.timer = timer;
    this.delay = delay;
    this.failed = failed;
  }

  @Override
  public void accept(JournalEntry.Note note) {
    boolean queued;
    boolean schedule = false;
    synchronized (this) {
      queued = !closed && queue.size() < CAPACITY;
      if (queued) {
        queue.add(note);
        schedule = !flushDue;
        flushDue = true;
      }
    }
    if (!queued) {
      write(List.of(note));
    } else if (schedule) {
      try {
        timer.schedule(this::flush, delay.toNanos(), TimeUnit.NANOSECONDS);
      } catch (RuntimeException e) { // the timer is gone: the daemon is closing
        flush();
      }
    }
  }

  /** Appends and syncs every queued note. */
  void flush() {
    List<JournalEntry.Note> batch;
    synchronized (this) {
      batch = List.copyOf(queue);
      queue.clear();
      flushDue = false;
    }
    if (!batch.isEmpty()) {
      write(batch);
    }
  }

  /** Writes what is queued; later notes are written by their callers. */
  @Override
  public void close() {
    synchronized (this) {
      closed = true;
    }
    flush();
  }

  private void write(List<JournalEntry.Note> notes) {
    try {
      for (JournalEntry.Note note : notes) {
        journal.appendNote(note);
      }
      journal.sync();
    } catch (IOException | RuntimeException e) {
      // A failed sync discards everything buffered since the last one (EvidenceJournal#sync).
      for (int i = 0; i < notes.size(); i++) {
        failed.run();
      }
    }
  }
}
