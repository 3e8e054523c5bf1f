package dev.veriruntime.sinks.journal;

import java.time.Instant;
import java.util.List;

/**
 * What {@link JournalVerifier} found. {@link #intact()} is true only when there are no problems;
 * warnings (e.g. records after the last checkpoint, a recorded crash recovery) do not make it
 * false.
 *
 * @param directory the journal directory checked
 * @param files journal files read
 * @param records records read (all kinds)
 * @param events event records
 * @param checkpoints checkpoints whose signature verified
 * @param lastSeq last sequence number found
 * @param lastHash hash of the last record
 * @param problems tampering or loss, each with its place
 * @param warnings things worth knowing that are not tampering
 * @param lastCheckpointSeq sequence number of the last checkpoint whose signature verified; 0 when
 *     none
 * @param lastCheckpointAt the time that checkpoint carries; null when none
 */
public record JournalReport(
    String directory,
    int files,
    long records,
    long events,
    long checkpoints,
    long lastSeq,
    String lastHash,
    List<Problem> problems,
    List<String> warnings,
    long lastCheckpointSeq,
    Instant lastCheckpointAt) {

  public JournalReport {
    problems = List.copyOf(problems);
    warnings = List.copyOf(warnings);
  }

  public boolean intact() {
    return problems.isEmpty();
  }

  /** What kind of damage. */
  public enum Kind {
    /** A line is not valid JSON or not a valid record (flipped bit, edited by hand). */
    MALFORMED,
    /** Sequence numbers jump or go back (records removed, reordered or duplicated). */
    SEQUENCE,
    /** A record's {@code prev} is not the previous record's hash (modified, removed, reordered). */
    CHAIN_BROKEN,
    /** A checkpoint or head signature does not verify. */
    BAD_SIGNATURE,
    /** Signed by a key other than the trusted node key. */
    UNTRUSTED_KEY,
    /** A file ends in the middle of a line. */
    TORN_TAIL,
    /** Records the signed head vouches for are missing at the end, or a file is missing. */
    TRUNCATED,
    /** The head file is missing fields or unreadable, or disagrees with the record it names. */
    HEAD_MISMATCH
  }

  /**
   * One problem and where it is.
   *
   * @param file journal file name (or {@code journal.head})
   * @param line 1-based line number, 0 when it concerns a whole file
   * @param seq the sequence number concerned, or -1 when unknown
   */
  public record Problem(Kind kind, String file, long line, long seq, String message) {
    @Override
    public String toString() {
      return file
          + (line > 0 ? ":" + line : "")
          + (seq >= 0 ? " seq " + seq : "")
          + ": "
          + kind
          + ": "
          + message;
    }
  }
}
