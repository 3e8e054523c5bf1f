package dev.veriruntime.agent;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The file that says an agent is running on a journal ({@value #FILE} beside it): written at start,
 * its {@code alive} time kept by {@link #beat()} every {@link #BEAT} as the file's modification
 * time (one {@code utimensat}: rewriting the file each second cost a create and a rename, ~0.8 ms
 * on a virtualised host), deleted by {@link #close()} at a clean stop. A marker still there at the
 * next start means the previous run ended without a clean stop ({@code kill -9}, a crash, the OOM
 * killer, a host reset): the agent was blind from the marker's last {@code alive} time until this
 * start, and {@link #previousRunGap()} says so. After a {@code kill -9} the last beat is in the
 * page cache and survives; after a power loss an older beat may be read, which only makes the
 * window larger, never smaller.
 *
 * <pre>{@code
 * RunMarker marker = RunMarker.open(journalDir, Clock.systemUTC(), RunMarker.bootId(), pid);
 * marker.previousRunGap().ifPresent(gap -> ...VERIFICATION_DEGRADED for gap.from()..gap.to()...);
 * timer.schedulePeriodically(marker::beat, 1, 1, TimeUnit.SECONDS);
 * ...
 * marker.close(); // clean stop: no gap is reported at the next start
 * }</pre>
 *
 * <p>Thread safety: {@link #beat} and {@link #close} may be called from different threads. A beat
 * that cannot be written (full or read-only file system) keeps the previous marker and is not
 * thrown: the condition belongs to the journal's own report, and an old {@code alive} time only
 * widens the next window.
 */
final class RunMarker implements AutoCloseable {
  /** The marker's file name in the journal directory. */
  static final String FILE = "agent.run";

  /** How often the {@code alive} time is rewritten: the precision of a gap's start. */
  static final Duration BEAT = Duration.ofSeconds(1);

  private static final ObjectMapper MAPPER =
      new ObjectMapper().registerModule(new JavaTimeModule());

  /** The marker's content. */
  record Content(long pid, String bootId, Instant started, Instant alive) {}

  /**
   * A run that ended without a clean stop: the agent was not watching between {@code from} (its
   * last beat) and {@code to} (this start).
   *
   * @param previous the previous run's marker, or null when it was unreadable
   * @param hostRestarted the boot id changed: the host itself restarted in the window
   */
  record Gap(Instant from, Instant to, Content previous, boolean hostRestarted) {
    Duration length() {
      return Duration.between(from, to);
    }
  }

  private final Path file;
  private final Clock clock;
  private final Content mine;
  private final Gap gap;
  private boolean closed;

  private RunMarker(Path file, Clock clock, Content mine, Gap gap) {
    this.file = file;
    this.clock = clock;
    this.mine = mine;
    this.gap = gap;
  }

  /**
   * Reads what a previous run left in {@code dir}, then writes this run's marker.
   *
   * @throws IOException if this run's marker cannot be written
   */
  static RunMarker open(Path dir, Clock clock, String bootId, long pid) throws IOException {
    Path file = dir.resolve(FILE);
    Instant now = clock.instant();
    Gap gap = previous(file, bootId, now);
    RunMarker marker = new RunMarker(file, clock, new Content(pid, bootId, now, now), gap);
    marker.write(now);
    return marker;
  }

  /** The previous run's gap, when it ended without a clean stop. */
  Optional<Gap> previousRunGap() {
    return Optional.ofNullable(gap);
  }

  /** Sets the {@code alive} time; a failure keeps the previous marker (see class comment). */
  synchronized void beat() {
    if (closed) {
      return;
    }
    Instant now = clock.instant();
    try {
      Files.setLastModifiedTime(file, FileTime.from(now));
    } catch (NoSuchFileException removed) {
      try {
        write(now); // someone removed it: written again
      } catch (IOException e) {
        // as below
      }
    } catch (IOException e) {
      // the previous marker stays: its older time only widens the next start's window
    }
  }

  /** A clean stop: removes the marker. Idempotent. */
  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    Files.deleteIfExists(file);
  }

  /** The kernel's id of this boot, or "" when it cannot be read. */
  static String bootId() {
    try {
      return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
    } catch (IOException e) {
      return "";
    }
  }

  private static Gap previous(Path file, String bootId, Instant now) {
    if (!Files.exists(file)) {
      return null;
    }
    try {
      Content c = MAPPER.readValue(file.toFile(), Content.class);
      Instant from = Objects.requireNonNull(c.alive(), "alive");
      Instant beat = Files.getLastModifiedTime(file).toInstant();
      from = beat.isAfter(from) ? beat : from; // the beats after the marker was written
      boolean rebooted = !bootId.isEmpty() && !bootId.equals(c.bootId());
      return new Gap(from.isAfter(now) ? now : from, now, c, rebooted);
    } catch (IOException | RuntimeException unreadable) {
      // A torn marker still proves an unclean stop; its modification time bounds the last beat.
      try {
        Instant from = Files.getLastModifiedTime(file).toInstant();
        return new Gap(from.isAfter(now) ? now : from, now, null, false);
      } catch (IOException gone) {
        return new Gap(now, now, null, false);
      }
    }
  }

  private void write(Instant alive) throws IOException {
    Path tmp = file.resolveSibling(FILE + ".tmp");
    // Replaced by rename: a reader never sees half a marker.
    Files.write(
        tmp,
        MAPPER.writeValueAsBytes(new Content(mine.pid(), mine.bootId(), mine.started(), alive)));
    Files.setLastModifiedTime(tmp, FileTime.from(alive)); // the beats' clock from the start
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (NoSuchFileException raced) {
      // closed meanwhile by another thread
    }
  }
}
