package dev.veriruntime.agent;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.veriruntime.api.EventFeed;
import dev.veriruntime.api.EventHub;
import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.journal.EvidenceJournal;
import dev.veriruntime.sinks.journal.JournalEntry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.OptionalLong;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The evidence journal as the event stream's past ({@link EventHub.History}): its durable end from
 * the live journal, its records read from the files without the journal's lock (a file at a time, a
 * line at a time: a replay holds one line in memory, whatever the journal's size). Only {@code
 * event} records are replayed, as the console prints them; checkpoints, notes and recovery records
 * take sequence numbers but are not events. Lines that cannot be parsed are skipped (the journal
 * verifier reports them). Thread safe.
 */
final class JournalHistory implements EventHub.History {
  private static final ObjectMapper MAPPER = EventJson.mapper();
  private static final String SEQ_PREFIX = "{\"seq\":";

  private final EvidenceJournal journal;

  JournalHistory(EvidenceJournal journal) {
    this.journal = journal;
  }

  @Override
  public long durableSeq() {
    return journal.durableSeq();
  }

  @Override
  public long firstKept() {
    try {
      for (Path file : EvidenceJournal.files(journal.directory())) {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
          String first = r.readLine();
          if (first != null) {
            OptionalLong seq = seqOf(first);
            if (seq.isPresent()) {
              return seq.getAsLong();
            }
          }
        } catch (NoSuchFileException removed) {
          // Archived between the listing and the read: look at the next one.
        }
      }
    } catch (IOException e) {
      // An unreadable journal directory holds nothing we can replay.
    }
    return durableSeq() + 1;
  }

  @Override
  public Stream<EventFeed.Event> replay(long after, long through) {
    Records records;
    try {
      records = new Records(EvidenceJournal.files(journal.directory()), after, through);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return StreamSupport.stream(
            Spliterators.spliteratorUnknownSize(records, Spliterator.ORDERED | Spliterator.NONNULL),
            false)
        .onClose(records::close);
  }

  /** The line's {@code seq} without parsing the rest: lines start {@code {"seq":N,}. */
  static OptionalLong seqOf(String line) {
    if (!line.startsWith(SEQ_PREFIX)) {
      return OptionalLong.empty();
    }
    int i = SEQ_PREFIX.length();
    int end = i;
    while (end < line.length() && Character.isDigit(line.charAt(end))) {
      end++;
    }
    if (end == i) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(line.substring(i, end)));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  /** A lazy walk over the files: events with {@code after < seq <= through}. */
  private static final class Records implements Iterator<EventFeed.Event>, AutoCloseable {
    private final Deque<Path> files;
    private final long after;
    private final long through;
    private BufferedReader reader;
    private EventFeed.Event next;
    private boolean done;

    Records(List<Path> files, long after, long through) {
      this.files = new ArrayDeque<>(files);
      this.after = after;
      this.through = through;
    }

    @Override
    public boolean hasNext() {
      if (next == null && !done) {
        next = advance();
        done = next == null;
        if (done) {
          close();
        }
      }
      return next != null;
    }

    @Override
    public EventFeed.Event next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      EventFeed.Event e = next;
      next = null;
      return e;
    }

    private EventFeed.Event advance() {
      try {
        while (true) {
          if (reader == null) {
            Path file = files.poll();
            if (file == null) {
              return null;
            }
            try {
              reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
            } catch (NoSuchFileException removed) {
              continue;
            }
          }
          String line = reader.readLine();
          if (line == null) {
            reader.close();
            reader = null;
            continue;
          }
          OptionalLong seq = seqOf(line);
          if (seq.isEmpty() || seq.getAsLong() <= after) {
            continue;
          }
          if (seq.getAsLong() > through) {
            return null;
          }
          JournalEntry entry;
          try {
            entry = MAPPER.readValue(line, JournalEntry.class);
          } catch (IOException malformed) {
            continue;
          }
          if (entry.event() != null) {
            return new EventFeed.Event(
                entry.seq(), entry.event().type().name(), EventJson.toJson(entry.event()));
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public void close() {
      if (reader != null) {
        try {
          reader.close();
        } catch (IOException e) {
          // Read-only: nothing to lose.
        }
        reader = null;
      }
      files.clear();
    }
  }
}
