package dev.veriruntime.sinks.journal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.SecurityEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The append-only, hash-chained evidence journal (format: {@link JournalFormat}, {@link
 * JournalEntry}). Records are buffered by {@link #append} and made durable together by {@link
 * #sync} (one write and one {@code fdatasync} per batch, then the signed head is replaced). Signed
 * checkpoints are added every {@link JournalOptions#checkpointEveryRecords()} records or {@link
 * JournalOptions#checkpointInterval()}, at rotation and at close; rotation starts a new file once
 * the current one reaches {@link JournalOptions#maxFileBytes()}, and the chain continues into it.
 *
 * <p>At {@link #open}, a torn tail left by a crash (a partial last line, or records after the last
 * signed head that do not chain) is cut, written into the journal as a {@code recovery} record and
 * reported by {@link #recoveryReport()} — never silently.
 *
 * <p>Thread safety: writing methods are synchronized; {@link #evidence} reads the files without the
 * lock. One process must own a state directory (the daemon). {@link #close()} syncs, checkpoints
 * and releases the file.
 *
 * <pre>{@code
 * try (EvidenceJournal j = EvidenceJournal.open(stateDir, JournalOptions.defaults())) {
 *   j.recoveryReport().ifPresent(r -> ...degraded event...);
 *   long seq = j.append(event);
 *   j.sync();
 *   Optional<Evidence> proof = j.evidence(event.id());
 * }
 * }</pre>
 */
public final class EvidenceJournal implements AutoCloseable {
  private static final ObjectMapper MAPPER = EventJson.mapper();

  private final Path dir;
  private final NodeKey key;
  private final JournalOptions options;
  private final JournalRecovery recovery;

  private long fileIndex;
  private FileChannel channel;
  private long fileSize;
  private long seq;
  private String lastHash;
  private final PendingLines buffer = new PendingLines();
  private final MessageDigest lineDigest = JournalFormat.sha256();
  private long durableSeq;
  private String durableHash;
  private String headFile;
  private long headOffset;
  private int recordsSinceCheckpoint;
  private int durableRecordsSinceCheckpoint;
  private boolean lastWasCheckpoint;
  private Instant lastCheckpointTime;
  private boolean closed;
  private boolean headStale;
  private boolean forceHead;
  private IOException housekeepingFailure;

  private EvidenceJournal(Path stateDir, JournalOptions options) throws IOException {
    this.options = Objects.requireNonNull(options, "options");
    this.dir = stateDir.resolve(JournalFormat.JOURNAL_DIR);
    Files.createDirectories(
        dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    this.key = NodeKey.loadOrCreate(stateDir.resolve(JournalFormat.KEY_DIR));
    this.lastCheckpointTime = options.clock().instant();
    this.recovery = recover();
    if (recovery != null) {
      appendEntry(
          new JournalEntry(
              seq + 1,
              lastHash,
              JournalEntry.RECOVERY,
              null,
              null,
              new JournalEntry.Recovery(
                  recovery.time(),
                  recovery.file(),
                  recovery.offset(),
                  recovery.bytesCut(),
                  recovery.reason(),
                  Map.of("lastGoodSeq", Long.toString(recovery.lastGoodSeq())))));
    }
    sync();
  }

  /**
   * Opens (creating if needed) the journal under {@code stateDir}, recovering from a crash if the
   * last file has a torn tail.
   *
   * @throws IOException if the directory, key or files cannot be created, read or written
   */
  public static EvidenceJournal open(Path stateDir, JournalOptions options) throws IOException {
    return new EvidenceJournal(stateDir, options);
  }

  /** The directory holding the journal files. */
  public Path directory() {
    return dir;
  }

  /** The node's public key (hex) that signs checkpoints and the head. */
  public String publicKeyHex() {
    return key.publicKeyHex();
  }

  /** What start-up repaired, if anything. */
  public Optional<JournalRecovery> recoveryReport() {
    return Optional.ofNullable(recovery);
  }

  /** Sequence number of the last record appended (durable or not). */
  public synchronized long lastSeq() {
    return seq;
  }

  /** Sequence number of the last record made durable by {@link #sync}. */
  public synchronized long durableSeq() {
    return durableSeq;
  }

  /**
   * Buffers one event record; it becomes durable at the next {@link #sync}.
   *
   * @return the record's sequence number
   * @throws IllegalStateException if closed
   */
  public synchronized long append(SecurityEvent event) throws IOException {
    ensureOpen();
    return appendEntry(
        new JournalEntry(
            seq + 1, lastHash, JournalEntry.EVENT, Objects.requireNonNull(event), null, null));
  }

  /**
   * Buffers one note (evidence that is not an alert); it becomes durable at the next {@link #sync}.
   *
   * @return the record's sequence number
   * @throws IllegalStateException if closed
   */
  public synchronized long appendNote(JournalEntry.Note note) throws IOException {
    ensureOpen();
    return appendEntry(
        new JournalEntry(
            seq + 1, lastHash, JournalEntry.NOTE, null, null, null, Objects.requireNonNull(note)));
  }

  /**
   * Writes everything buffered and forces it to disk (one write, one {@code fdatasync}), then adds
   * a checkpoint or rotates if due and replaces the signed head.
   *
   * <p>Throws only if the buffered records could not be made durable: they are then discarded (the
   * file is cut back to the last durable record) and the caller counts them as failed. Once they
   * are durable, a failing checkpoint, rotation or head update (e.g. a full disk) does not undo
   * that; it is kept in {@link #housekeepingFailure()} and retried at the next sync.
   */
  public synchronized void sync() throws IOException {
    ensureOpen();
    if (writePending()) {
      headStale = true;
    }
    try {
      housekeeping();
      housekeepingFailure = null;
    } catch (IOException e) {
      housekeepingFailure = e;
    }
  }

  /** Why the last checkpoint, rotation or head update failed, if it did. */
  public synchronized Optional<IOException> housekeepingFailure() {
    return Optional.ofNullable(housekeepingFailure);
  }

  private void housekeeping() throws IOException {
    Instant now = options.clock().instant();
    boolean checkpointDue =
        recordsSinceCheckpoint >= options.checkpointEveryRecords()
            || (recordsSinceCheckpoint > 0
                && !now.isBefore(lastCheckpointTime.plus(options.checkpointInterval())));
    if (checkpointDue || (fileSize >= options.maxFileBytes() && !lastWasCheckpoint && seq > 0)) {
      appendCheckpoint(now);
      writePending();
      headStale = true;
      forceHead = true;
    }
    if (fileSize >= options.maxFileBytes()) {
      rotate();
      forceHead = true;
    }
    if (headStale || headFile == null) {
      // Forcing the head every batch would double the fsyncs. The records it names are already
      // forced, so a head lost in a crash is only stale (or unreadable until the next start-up,
      // which rewrites it); it is forced after a checkpoint or rotation, at open and at close.
      writeHead(now, forceHead || headFile == null);
      headStale = false;
      forceHead = false;
    }
  }

  /** Appends a signed checkpoint now and syncs. */
  public synchronized void checkpoint() throws IOException {
    ensureOpen();
    appendCheckpoint(options.clock().instant());
    sync();
  }

  /**
   * {@code GetEvidence(ref)}: finds a record by event id or by sequence number (decimal) and
   * returns it with the hashes and next checkpoint that place it in the chain. Records still
   * buffered (before the next {@link #sync}) are not found. Cost: a scan of the journal files
   * (lookups are rare; each file is bounded by rotation).
   */
  public Optional<Evidence> evidence(String ref) throws IOException {
    // Not synchronized: a slow scan must not hold up appends (that would make the sink drop).
    return find(dir, ref);
  }

  /**
   * The read-only form of {@link #evidence(String)} for a journal directory this process does not
   * own (the CLI, an offline copy). Never writes.
   */
  public static Optional<Evidence> find(Path journalDir, String ref) throws IOException {
    Objects.requireNonNull(ref, "ref");
    Long wantedSeq = null;
    try {
      wantedSeq = Long.parseLong(ref);
    } catch (NumberFormatException notASeq) {
      // an event id
    }
    Evidence found = null;
    for (Path file : journalFiles(journalDir)) {
      for (JournalLine line : JournalLine.readAll(file)) {
        if (!line.terminated()) {
          continue;
        }
        JournalEntry entry;
        try {
          entry = MAPPER.readValue(line.bytes(), JournalEntry.class);
        } catch (IOException malformed) {
          continue; // the verifier reports it; lookups skip what cannot be read
        }
        String name = file.getFileName().toString();
        if (found == null) {
          boolean match =
              (wantedSeq != null && entry.seq() == wantedSeq)
                  || (entry.event() != null && ref.equals(entry.event().id()));
          if (match) {
            found =
                new Evidence(
                    name,
                    line.number(),
                    entry.seq(),
                    entry.prev(),
                    line.hash(),
                    entry,
                    new String(line.bytes(), java.nio.charset.StandardCharsets.UTF_8),
                    null);
          }
        } else if (JournalEntry.CHECKPOINT.equals(entry.kind())) {
          return Optional.of(
              new Evidence(
                  found.file(),
                  found.line(),
                  found.seq(),
                  found.prevHash(),
                  found.recordHash(),
                  found.entry(),
                  found.rawLine(),
                  new Evidence.CheckpointRef(
                      name, line.number(), entry.seq(), entry.prev(), entry.checkpoint())));
        }
      }
    }
    return Optional.ofNullable(found);
  }

  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    try {
      if (!lastWasCheckpoint && seq > 0) {
        appendCheckpoint(options.clock().instant());
      }
      forceHead = true;
      sync();
      if (housekeepingFailure != null) {
        throw housekeepingFailure;
      }
    } finally {
      closed = true;
      channel.close();
    }
  }

  /**
   * Releases the file without writing anything more, as a crash would; for crash-recovery tests.
   */
  synchronized void abandon() throws IOException {
    closed = true;
    channel.close();
  }

  // ---- writing ----

  /** Lines not yet written: serialised, hashed and written from its own array, never copied. */
  private static final class PendingLines extends ByteArrayOutputStream {
    PendingLines() {
      super(64 * 1024);
    }

    byte[] array() {
      return buf;
    }

    /** Drops what was written after {@code size} bytes (a line whose serialisation failed). */
    void truncate(int size) {
      count = size;
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("journal closed");
    }
  }

  private long appendEntry(JournalEntry entry) throws IOException {
    int start = buffer.size();
    try {
      MAPPER.writeValue(buffer, entry); // straight into the pending lines (closing it does nothing)
    } catch (IOException | RuntimeException e) {
      buffer.truncate(start);
      throw e;
    }
    lastHash = JournalFormat.sha256Hex(lineDigest, buffer.array(), start, buffer.size() - start);
    buffer.write('\n');
    seq = entry.seq();
    lastWasCheckpoint = JournalEntry.CHECKPOINT.equals(entry.kind());
    recordsSinceCheckpoint = lastWasCheckpoint ? 0 : recordsSinceCheckpoint + 1;
    return seq;
  }

  private void appendCheckpoint(Instant now) throws IOException {
    long cpSeq = seq + 1;
    byte[] sig = key.sign(JournalFormat.checkpointMessage(cpSeq, lastHash, now));
    appendEntry(
        new JournalEntry(
            cpSeq,
            lastHash,
            JournalEntry.CHECKPOINT,
            null,
            new JournalEntry.Checkpoint(now, key.publicKeyHex(), HexFormat.of().formatHex(sig)),
            null));
    lastCheckpointTime = now;
  }

  /** Writes and forces the buffer; returns whether anything was written. */
  private boolean writePending() throws IOException {
    if (buffer.size() == 0) {
      return false;
    }
    ByteBuffer bb = ByteBuffer.wrap(buffer.array(), 0, buffer.size());
    int n = bb.remaining();
    try {
      long pos = fileSize;
      while (bb.hasRemaining()) {
        pos += channel.write(bb, pos);
      }
      // fdatasync: the data and the size; other metadata (mtime) is not worth a second flush.
      channel.force(false);
    } catch (IOException e) {
      rollBack();
      throw e;
    }
    fileSize += n;
    buffer.reset();
    durableSeq = seq;
    durableHash = lastHash;
    durableRecordsSinceCheckpoint = recordsSinceCheckpoint;
    headFile = JournalFormat.fileName(fileIndex);
    headOffset = fileSize;
    return true;
  }

  private void rollBack() {
    buffer.reset();
    seq = durableSeq;
    lastHash = durableHash;
    recordsSinceCheckpoint = durableRecordsSinceCheckpoint;
    try {
      channel.truncate(fileSize);
    } catch (IOException ignored) {
      // Cannot even truncate: the next start-up finds the torn tail and reports it.
    }
  }

  private void rotate() throws IOException {
    FileChannel old = channel;
    long oldSize = fileSize;
    fileIndex++;
    try {
      openFile(true);
    } catch (IOException e) {
      // Keep appending to the old file; rotation is retried at the next sync.
      if (channel != old) {
        channel.close();
      }
      fileIndex--;
      channel = old;
      fileSize = oldSize;
      throw e;
    }
    old.close();
  }

  private void openFile(boolean createNew) throws IOException {
    Path file = dir.resolve(JournalFormat.fileName(fileIndex));
    FileChannel c =
        createNew
            ? FileChannel.open(
                file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ)
            : FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.READ);
    try {
      // An empty file left by an earlier failed rotation may be reused; anything else may not.
      if (createNew && c.size() != 0) {
        throw new java.nio.file.FileAlreadyExistsException(file + " exists and is not empty");
      }
      if (createNew) {
        forceDirectory();
      }
    } catch (IOException e) {
      c.close();
      throw e;
    }
    channel = c;
    fileSize = c.size();
  }

  private void forceDirectory() throws IOException {
    // A new file name is durable only once its directory entry is.
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  private void writeHead(Instant now, boolean force) throws IOException {
    String file = headFile == null ? JournalFormat.fileName(fileIndex) : headFile;
    long offset = headFile == null ? fileSize : headOffset;
    JournalHead unsigned =
        new JournalHead(file, offset, durableSeq, durableHash, now, key.publicKeyHex(), "");
    String sig = HexFormat.of().formatHex(key.sign(JournalFormat.headMessage(unsigned)));
    JournalHead head =
        new JournalHead(file, offset, durableSeq, durableHash, now, key.publicKeyHex(), sig);
    Path tmp = dir.resolve(JournalFormat.HEAD_FILE + ".tmp");
    try (FileChannel c =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer bb = ByteBuffer.wrap(MAPPER.writeValueAsBytes(head));
      while (bb.hasRemaining()) {
        c.write(bb);
      }
      if (force) {
        c.force(false);
      }
    }
    Files.move(
        tmp,
        dir.resolve(JournalFormat.HEAD_FILE),
        StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    headFile = file;
    headOffset = offset;
  }

  // ---- start-up recovery ----

  /**
   * The journal files under {@code journalDir} in chain order (oldest first); empty if none. For
   * readers of a live journal (the event stream's replay): a file's last line may still be partial.
   */
  public static List<Path> files(Path journalDir) throws IOException {
    return journalFiles(journalDir);
  }

  static List<Path> journalFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> JournalFormat.fileIndex(p.getFileName().toString()).isPresent())
          .sorted(
              java.util.Comparator.comparingLong(
                  p -> JournalFormat.fileIndex(p.getFileName().toString()).orElseThrow()))
          .toList();
    }
  }

  static Optional<JournalHead> readHead(Path dir) {
    Path head = dir.resolve(JournalFormat.HEAD_FILE);
    if (!Files.exists(head)) {
      return Optional.empty();
    }
    try {
      return Optional.of(MAPPER.readValue(head.toFile(), JournalHead.class));
    } catch (IOException unreadable) {
      return Optional.empty();
    }
  }

  /**
   * Finds where the chain ends, cuts a torn or unconfirmed tail, and opens the last file for
   * appending. Returns what was repaired, or null.
   */
  private JournalRecovery recover() throws IOException {
    List<Path> files = journalFiles(dir);
    seq = 0;
    lastHash = JournalFormat.GENESIS;
    if (files.isEmpty()) {
      fileIndex = 1;
      openFile(true);
      durableSeq = 0;
      durableHash = lastHash;
      return null;
    }
    Optional<JournalHead> head = readHead(dir);
    Path last = files.get(files.size() - 1);
    fileIndex = JournalFormat.fileIndex(last.getFileName().toString()).orElseThrow();
    if (files.size() > 1) {
      enterFrom(files.get(files.size() - 2));
    }
    String lastName = last.getFileName().toString();
    Cut cut = replay(JournalLine.readAll(last), confirmedEnd(head, lastName));
    durableSeq = seq;
    durableHash = lastHash;
    durableRecordsSinceCheckpoint = recordsSinceCheckpoint;
    openFile(false);
    return repair(cut, head, lastName);
  }

  /** The chain enters the last file from the previous one: its last complete record. */
  private void enterFrom(Path previousFile) throws IOException {
    List<JournalLine> prevLines = JournalLine.readAll(previousFile);
    for (int i = prevLines.size() - 1; i >= 0; i--) {
      if (prevLines.get(i).terminated()) {
        JournalLine l = prevLines.get(i);
        lastHash = l.hash();
        seq = parseSeq(l).orElse(0L);
        return;
      }
    }
  }

  /**
   * Bytes up to the head's offset were confirmed durable: damage there is tampering, not a crash,
   * and is left for the verifier to report. Without a head nothing complete is cut.
   */
  private long confirmedEnd(Optional<JournalHead> head, String lastName) {
    if (head.isPresent() && JournalFormat.fileIndex(head.get().file()).orElse(0L) > fileIndex) {
      return Long.MAX_VALUE;
    }
    return head.map(h -> h.file().equals(lastName) ? h.offset() : 0L).orElse(Long.MAX_VALUE);
  }

  /** Where and why the tail of the last file is cut. */
  private record Cut(long at, String why) {}

  /**
   * Follows the chain through the last file, advancing {@code seq} and {@code lastHash}; returns
   * where it breaks after {@code confirmedEnd} or tears, or null when it is whole.
   */
  private Cut replay(List<JournalLine> lines, long confirmedEnd) {
    for (JournalLine line : lines) {
      if (!line.terminated()) {
        return new Cut(
            line.offset(),
            "torn last line (" + line.bytes().length + " bytes, no newline) after an unclean stop");
      }
      Optional<JournalEntry> entry = parse(line);
      boolean chains =
          entry.isPresent() && entry.get().seq() == seq + 1 && lastHash.equals(entry.get().prev());
      if (!chains && line.offset() >= confirmedEnd) {
        return new Cut(
            line.offset(),
            "records after the last durable head do not chain (unconfirmed writes after an unclean stop)");
      }
      seq = entry.map(JournalEntry::seq).orElse(seq + 1);
      lastHash = line.hash();
      lastWasCheckpoint = entry.map(e -> JournalEntry.CHECKPOINT.equals(e.kind())).orElse(false);
      recordsSinceCheckpoint = lastWasCheckpoint ? 0 : recordsSinceCheckpoint + 1;
    }
    return null;
  }

  /** Cuts the tail (the file is open) and says what was repaired or lost, or null if nothing. */
  private JournalRecovery repair(Cut cut, Optional<JournalHead> head, String lastName)
      throws IOException {
    List<String> reasons = new ArrayList<>();
    long bytesCut = 0;
    if (cut != null) {
      bytesCut = fileSize - cut.at();
      channel.truncate(cut.at());
      channel.force(false);
      fileSize = cut.at();
      reasons.add(cut.why() + ": cut " + bytesCut + " bytes at offset " + cut.at());
    }
    if (head.isPresent() && head.get().seq() > seq) {
      reasons.add(
          "the signed head says seq "
              + head.get().seq()
              + " was durable but the journal ends at seq "
              + seq
              + ": "
              + (head.get().seq() - seq)
              + " record(s) lost");
    }
    if (reasons.isEmpty()) {
      return null;
    }
    return new JournalRecovery(
        options.clock().instant(), lastName, fileSize, bytesCut, seq, String.join("; ", reasons));
  }

  private static Optional<JournalEntry> parse(JournalLine line) {
    try {
      JsonNode n = MAPPER.readTree(line.bytes());
      if (n == null || !n.path("seq").canConvertToLong() || !n.path("prev").isTextual()) {
        return Optional.empty();
      }
      return Optional.of(MAPPER.treeToValue(n, JournalEntry.class));
    } catch (IOException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private static Optional<Long> parseSeq(JournalLine line) {
    return parse(line).map(JournalEntry::seq);
  }
}
