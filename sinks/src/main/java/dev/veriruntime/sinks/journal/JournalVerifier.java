package dev.veriruntime.sinks.journal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.journal.JournalReport.Kind;
import dev.veriruntime.sinks.journal.JournalReport.Problem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Checks an evidence journal written by {@link EvidenceJournal} without trusting it: every line's
 * hash against the next line's {@code prev}, sequence numbers, every checkpoint signature, the
 * signed head against the end of the chain, and file continuity across rotation. It finds any
 * flipped bit, truncation, reordering or removed record and says where (file, line, seq). It keeps
 * going after a problem (re-anchoring on what it read) so one report lists every break.
 *
 * <p>Signatures are checked against a trusted public key: the one given to the constructor, else
 * {@code <stateDir>/keys/node.ed25519.pub} next to the journal; without either, against the key
 * each record names, with a warning. Stateless and thread-safe.
 */
public final class JournalVerifier {
  private static final ObjectMapper MAPPER = EventJson.mapper();

  private static final java.util.regex.Pattern LOWER_HEX =
      java.util.regex.Pattern.compile("(?:[0-9a-f]{2})+");

  private static final java.util.Set<String> EVENT_TYPES =
      java.util.Arrays.stream(dev.veriruntime.sinks.EventType.values())
          .map(Enum::name)
          .collect(java.util.stream.Collectors.toUnmodifiableSet());

  private final byte[] trustedKey;

  /**
   * @param trustedKey the node's Ed25519 public key, or {@code null} to look for it beside the
   *     journal
   */
  public JournalVerifier(byte[] trustedKey) {
    this.trustedKey = trustedKey == null ? null : trustedKey.clone();
  }

  /**
   * Finds the journal directory for {@code path}: a state directory containing {@code journal/}, or
   * the journal directory itself.
   *
   * @throws NoSuchFileException if neither holds journal files or a head
   */
  public static Path journalDirectory(Path path) throws IOException {
    Path nested = path.resolve(JournalFormat.JOURNAL_DIR);
    if (Files.isDirectory(nested)) {
      return nested;
    }
    if (Files.isDirectory(path)
        && (Files.exists(path.resolve(JournalFormat.HEAD_FILE))
            || !EvidenceJournal.journalFiles(path).isEmpty())) {
      return path;
    }
    throw new NoSuchFileException(path + " (no evidence journal there)");
  }

  /**
   * Verifies the journal at {@code path} (state directory or journal directory).
   *
   * @throws IOException if the directory or a file cannot be read (not if it is damaged: damage is
   *     reported in the result)
   */
  public JournalReport verify(Path path) throws IOException {
    Path dir = journalDirectory(path);
    Audit audit = new Audit();
    String trustedHex = trustedKeyHex(dir, audit.warnings);
    Optional<JournalHead> head = readHead(dir, audit.problems, audit.warnings, trustedHex);
    List<Path> files = EvidenceJournal.journalFiles(dir);
    for (Path file : files) {
      String name = file.getFileName().toString();
      audit.fileIndex(name, JournalFormat.fileIndex(name).orElseThrow());
      List<JournalLine> lines;
      try {
        lines = JournalLine.readAll(file);
      } catch (IOException notRead) {
        // A link, FIFO or device in the journal's place, or an oversized file: damage to report,
        // not a reason to stop (its records are then missing from the chain, which says so).
        audit.problems.add(new Problem(Kind.MALFORMED, name, 0, -1, notRead.getMessage()));
        continue;
      }
      for (JournalLine line : lines) {
        audit.line(name, line, trustedHex, head);
      }
    }
    long lastSeq = audit.expectedSeq - 1;
    head.ifPresent(h -> audit.endOfChain(h, lastSeq));
    if (lastSeq > audit.lastCheckpointSeq) {
      audit.warnings.add(
          (lastSeq - audit.lastCheckpointSeq)
              + " record(s) after the last checkpoint"
              + (head.isPresent() ? " (covered by the signed head)" : " are not signed"));
    }
    return new JournalReport(
        dir.toString(),
        files.size(),
        audit.records,
        audit.events,
        audit.checkpoints,
        lastSeq,
        audit.expectedPrev,
        audit.problems,
        audit.warnings,
        audit.lastCheckpointSeq,
        audit.lastCheckpointAt);
  }

  /** The time a verified checkpoint record carries; null when it is not a valid instant. */
  private static Instant checkpointTime(JsonNode node) {
    try {
      return Instant.parse(node.path("checkpoint").path("time").asText());
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /** The key given, else the one beside the journal, else none (with a warning). */
  private String trustedKeyHex(Path dir, List<String> warnings) throws IOException {
    byte[] key = trustedKey;
    if (key == null) {
      Path pub = dir.resolveSibling(JournalFormat.KEY_DIR).resolve(NodeKey.PUBLIC_FILE);
      if (Files.exists(pub)) {
        key = NodeKey.readPublicKey(pub);
      } else {
        warnings.add(
            "no trusted public key given or found at "
                + pub
                + ": signatures checked against the key each record names");
      }
    }
    return key == null ? null : HexFormat.of().formatHex(key);
  }

  /**
   * One pass over the chain: what the next record must be, what has been counted, and every problem
   * found so far. After a problem it re-anchors on what it read, so one pass lists every break.
   */
  private static final class Audit {
    final List<Problem> problems = new ArrayList<>();
    final List<String> warnings = new ArrayList<>();
    long expectedSeq = 1;
    String expectedPrev = JournalFormat.GENESIS;
    long expectedIndex = 1;
    long records;
    long events;
    long checkpoints;
    long lastCheckpointSeq;
    Instant lastCheckpointAt;

    /** Where the record the head names was found, to compare with what the head says. */
    String headRecordHash;

    String headRecordFile;
    long headRecordEnd = -1;

    /** Files are numbered without gaps from 1. */
    void fileIndex(String name, long index) {
      if (index != expectedIndex) {
        problems.add(
            new Problem(
                Kind.TRUNCATED,
                name,
                0,
                -1,
                index > expectedIndex
                    ? "file(s) "
                        + JournalFormat.fileName(expectedIndex)
                        + ".."
                        + JournalFormat.fileName(index - 1)
                        + " missing"
                    : "unexpected file index"));
      }
      expectedIndex = index + 1;
    }

    void line(String name, JournalLine line, String trustedHex, Optional<JournalHead> head) {
      if (!line.terminated()) {
        problems.add(
            new Problem(
                Kind.TORN_TAIL,
                name,
                line.number(),
                -1,
                "file ends inside a record ("
                    + line.bytes().length
                    + " bytes without newline): crash or truncation; daemon start-up cuts and reports it"));
        return;
      }
      records++;
      String hash = line.hash();
      JsonNode node = parseRecord(line);
      if (node == null) {
        problems.add(
            new Problem(
                Kind.MALFORMED,
                name,
                line.number(),
                expectedSeq,
                "not a journal record (bytes changed?)"));
        expectedSeq++;
        expectedPrev = hash;
        return;
      }
      long seq = node.get("seq").asLong();
      String prev = node.get("prev").asText();
      chain(name, line, seq, prev);
      kind(name, line, node, seq, prev, trustedHex);
      if (head.isPresent() && seq == head.get().seq()) {
        headRecordHash = hash;
        headRecordFile = name;
        headRecordEnd = line.offset() + line.bytes().length + 1;
      }
      expectedSeq = seq + 1;
      expectedPrev = hash;
    }

    /** The record's sequence number and its link to the record before it. */
    private void chain(String name, JournalLine line, long seq, String prev) {
      if (seq != expectedSeq) {
        problems.add(
            new Problem(
                Kind.SEQUENCE,
                name,
                line.number(),
                seq,
                seq > expectedSeq
                    ? "expected seq "
                        + expectedSeq
                        + ": record(s) "
                        + expectedSeq
                        + ".."
                        + (seq - 1)
                        + " missing"
                    : "expected seq "
                        + expectedSeq
                        + ": sequence goes back (records reordered or duplicated)"));
      }
      if (!prev.equals(expectedPrev)) {
        problems.add(
            new Problem(
                Kind.CHAIN_BROKEN,
                name,
                line.number(),
                seq,
                "prev does not match the hash of the record before it (that record changed, or records were removed or reordered)"));
      }
    }

    /** What the record carries: an event, a signed checkpoint, or a recovery note. */
    private void kind(
        String name, JournalLine line, JsonNode node, long seq, String prev, String trustedHex) {
      String kind = node.get("kind").asText();
      switch (kind) {
        case JournalEntry.EVENT -> {
          if (!validEvent(node.get("event"))) {
            problems.add(
                new Problem(
                    Kind.MALFORMED,
                    name,
                    line.number(),
                    seq,
                    "event payload is not a valid SecurityEvent"));
          }
          events++;
        }
        case JournalEntry.CHECKPOINT -> {
          Optional<String> bad = checkCheckpoint(node, seq, prev, trustedHex);
          if (bad.isPresent()) {
            problems.add(
                new Problem(
                    bad.get().startsWith("signed by") ? Kind.UNTRUSTED_KEY : Kind.BAD_SIGNATURE,
                    name,
                    line.number(),
                    seq,
                    bad.get()));
          } else {
            checkpoints++;
            lastCheckpointSeq = seq;
            lastCheckpointAt = checkpointTime(node);
          }
        }
        case JournalEntry.NOTE -> {
          if (!node.path("note").path("topic").isTextual()) {
            problems.add(
                new Problem(Kind.MALFORMED, name, line.number(), seq, "note without a topic"));
          }
        }
        case JournalEntry.RECOVERY ->
            warnings.add(
                name
                    + ":"
                    + line.number()
                    + " seq "
                    + seq
                    + ": recovery after an unclean stop: "
                    + node.path("recovery").path("reason").asText());
        default ->
            problems.add(
                new Problem(
                    Kind.MALFORMED, name, line.number(), seq, "unknown kind '" + kind + "'"));
      }
    }

    /** The signed head against the end of the chain: nothing cut off, nothing changed. */
    void endOfChain(JournalHead h, long lastSeq) {
      if (h.seq() > lastSeq) {
        problems.add(
            new Problem(
                Kind.TRUNCATED,
                h.file(),
                0,
                h.seq(),
                "the signed head says seq "
                    + h.seq()
                    + " is durable but the journal ends at seq "
                    + lastSeq
                    + ": record(s) "
                    + (lastSeq + 1)
                    + ".."
                    + h.seq()
                    + " missing"));
      } else if (h.seq() > 0 && !h.hash().equals(headRecordHash)) {
        problems.add(
            new Problem(
                Kind.HEAD_MISMATCH,
                h.file(),
                0,
                h.seq(),
                "record seq "
                    + h.seq()
                    + " is not the record the signed head vouches for (changed after it was written)"));
      } else if (h.seq() > 0 && (!h.file().equals(headRecordFile) || h.offset() != headRecordEnd)) {
        problems.add(
            new Problem(
                Kind.HEAD_MISMATCH,
                h.file(),
                0,
                h.seq(),
                "the signed head places seq "
                    + h.seq()
                    + " at "
                    + h.file()
                    + " offset "
                    + h.offset()
                    + " but it is at "
                    + headRecordFile
                    + " offset "
                    + headRecordEnd));
      }
      if (lastSeq > h.seq()) {
        warnings.add(
            (lastSeq - h.seq())
                + " record(s) after the signed head (written after it, or the head is stale)");
      }
    }
  }

  /** The record as JSON, or null when it is not a journal record (no seq, prev or kind). */
  private static JsonNode parseRecord(JournalLine line) {
    JsonNode node;
    try {
      node = MAPPER.readTree(line.bytes());
    } catch (IOException e) {
      return null;
    }
    if (node == null
        || !node.isObject()
        || !node.path("seq").isIntegralNumber()
        || !node.path("prev").isTextual()
        || !node.path("kind").isTextual()) {
      return null;
    }
    return node;
  }

  /**
   * The fields every SecurityEvent must have, checked on the tree: full data binding of every event
   * would triple the cost of verifying, and the chain already proves the bytes are the writer's.
   */
  private static boolean validEvent(JsonNode event) {
    if (event == null || !event.isObject()) {
      return false;
    }
    JsonNode id = event.get("id");
    JsonNode type = event.get("type");
    JsonNode time = event.get("time");
    JsonNode count = event.get("count");
    if (id == null
        || !id.isTextual()
        || id.asText().isBlank()
        || type == null
        || !type.isTextual()
        || !EVENT_TYPES.contains(type.asText())
        || time == null
        || !time.isTextual()
        || count == null
        || !count.canConvertToLong()
        || count.asLong() < 1
        || !event.path("reason").isTextual()) {
      return false;
    }
    try {
      Instant.parse(time.asText());
      return true;
    } catch (java.time.format.DateTimeParseException e) {
      return false;
    }
  }

  private static Optional<String> checkCheckpoint(
      JsonNode node, long seq, String prev, String trustedHex) {
    JsonNode cp = node.path("checkpoint");
    String keyHex = cp.path("key").asText("");
    String sigHex = cp.path("sig").asText("");
    String time = cp.path("time").asText("");
    if (trustedHex != null && !trustedHex.equals(keyHex)) {
      return Optional.of(
          "signed by key "
              + abbreviate(keyHex)
              + ", not the trusted node key "
              + abbreviate(trustedHex));
    }
    try {
      Instant t = Instant.parse(time);
      byte[] k = HexFormat.of().parseHex(keyHex);
      byte[] s = HexFormat.of().parseHex(sigHex);
      if (!t.toString().equals(time)
          || !NodeKey.verify(k, JournalFormat.checkpointMessage(seq, prev, t), s)) {
        return Optional.of("checkpoint signature does not verify");
      }
      return Optional.empty();
    } catch (RuntimeException e) {
      return Optional.of("checkpoint is malformed: " + e.getMessage());
    }
  }

  private static Optional<JournalHead> readHead(
      Path dir, List<Problem> problems, List<String> warnings, String trustedHex)
      throws IOException {
    Path file = dir.resolve(JournalFormat.HEAD_FILE);
    if (!Files.exists(file)) {
      warnings.add(
          "no " + JournalFormat.HEAD_FILE + ": records removed from the end cannot be detected");
      return Optional.empty();
    }
    Optional<JournalHead> parsed = parseHead(file, problems);
    if (parsed.isEmpty()) {
      return parsed;
    }
    JournalHead head = parsed.get();
    if (trustedHex != null && !trustedHex.equals(head.key())) {
      problems.add(
          new Problem(
              Kind.UNTRUSTED_KEY,
              JournalFormat.HEAD_FILE,
              0,
              head.seq(),
              "signed by key "
                  + abbreviate(head.key())
                  + ", not the trusted node key "
                  + abbreviate(trustedHex)));
      return parsed;
    }
    boolean ok;
    try {
      ok =
          NodeKey.verify(
              HexFormat.of().parseHex(head.key()),
              JournalFormat.headMessage(head),
              HexFormat.of().parseHex(head.sig()));
    } catch (IllegalArgumentException e) {
      ok = false;
    }
    if (!ok) {
      problems.add(
          new Problem(
              Kind.BAD_SIGNATURE,
              JournalFormat.HEAD_FILE,
              0,
              head.seq(),
              "head signature does not verify"));
    }
    return parsed;
  }

  /** The head file, byte for byte in the form the journal writes, every field present. */
  private static Optional<JournalHead> parseHead(Path file, List<Problem> problems) {
    JournalHead head;
    try {
      byte[] bytes = JournalFormat.readRegular(file);
      head = MAPPER.readValue(bytes, JournalHead.class);
      // The signature covers the values; this covers the bytes (e.g. a hex digit changing case).
      if (!java.util.Arrays.equals(bytes, MAPPER.writeValueAsBytes(head))) {
        throw new IOException("not in the form the journal writes");
      }
    } catch (IOException e) {
      problems.add(
          new Problem(
              Kind.HEAD_MISMATCH, JournalFormat.HEAD_FILE, 0, -1, "unreadable (bytes changed?)"));
      return Optional.empty();
    }
    if (head.file() == null
        || head.hash() == null
        || head.time() == null
        || head.key() == null
        || head.sig() == null) {
      problems.add(
          new Problem(Kind.HEAD_MISMATCH, JournalFormat.HEAD_FILE, 0, -1, "fields missing"));
      return Optional.empty();
    }
    if (!LOWER_HEX.matcher(head.hash()).matches()
        || !LOWER_HEX.matcher(head.key()).matches()
        || !LOWER_HEX.matcher(head.sig()).matches()) {
      // parseHex accepts upper case, so the signature alone would not notice a changed letter case.
      problems.add(
          new Problem(
              Kind.HEAD_MISMATCH,
              JournalFormat.HEAD_FILE,
              0,
              head.seq(),
              "hash, key or sig is not lowercase hex"));
      return Optional.empty();
    }
    return Optional.of(head);
  }

  private static String abbreviate(String hex) {
    return hex.length() > 16 ? hex.substring(0, 16) + "…" : hex;
  }
}
