package dev.veriruntime.sinks.journal;

/**
 * A journal record and what proves its place in the chain ({@code GetEvidence(ref)}): its own hash
 * (SHA-256 of {@code line}), the previous record's hash it commits to, and the first signed
 * checkpoint after it, whose signature covers it through the chain. To check the chain between the
 * record and the checkpoint run {@code veriruntime journal verify}.
 *
 * @param file journal file name
 * @param line 1-based line number in that file
 * @param seq the record's sequence number
 * @param prevHash {@code prev} of the record
 * @param recordHash SHA-256 (hex) of {@code line}'s bytes
 * @param entry the parsed record
 * @param rawLine the record exactly as stored
 * @param checkpoint the next checkpoint, or {@code null} if none was written after it yet
 */
public record Evidence(
    String file,
    long line,
    long seq,
    String prevHash,
    String recordHash,
    JournalEntry entry,
    String rawLine,
    CheckpointRef checkpoint) {

  /** Where the covering checkpoint is and what it says. */
  public record CheckpointRef(
      String file, long line, long seq, String prevHash, JournalEntry.Checkpoint checkpoint) {}
}
