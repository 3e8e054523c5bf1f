package dev.veriruntime.sinks.journal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The on-disk layout of the evidence journal, shared by the writer ({@link EvidenceJournal}) and
 * the checker ({@link JournalVerifier}) so they cannot disagree:
 *
 * <pre>
 * &lt;stateDir&gt;/journal/journal-000001.jsonl   records, one JSON line each, hash-chained
 * &lt;stateDir&gt;/journal/journal-000002.jsonl   the chain continues across rotated files
 * &lt;stateDir&gt;/journal/journal.head           last durable position, signed (detects tail truncation)
 * &lt;stateDir&gt;/keys/node.ed25519[.pub]        the node key ({@link NodeKey})
 * </pre>
 */
public final class JournalFormat {
  /** {@code prev} of the very first record. */
  public static final String GENESIS = "0".repeat(64);

  /** Default state directory of the daemon. */
  public static final Path DEFAULT_STATE_DIR = Path.of("/var/lib/veriruntime");

  public static final String JOURNAL_DIR = "journal";
  public static final String KEY_DIR = "keys";
  public static final String HEAD_FILE = "journal.head";

  private static final Pattern FILE_NAME = Pattern.compile("journal-(\\d{6,})\\.jsonl");

  /**
   * The largest journal or head file a reader takes in: rotation keeps a journal file near its
   * {@link JournalOptions#maxFileBytes()} (64 MiB by default), so more is not the journal's.
   */
  static final long MAX_READ_BYTES = 1L << 30;

  private JournalFormat() {}

  /**
   * The bytes of a journal or head file, read without following a symbolic link. A journal may have
   * been tampered with, so a file that is not a regular one (a link to {@code /dev/zero}, a FIFO
   * that would block the reader) or larger than {@link #MAX_READ_BYTES} is refused with an {@link
   * IOException} rather than read. (A regular file swapped for a FIFO between the check and the
   * open can still block the open; the directory's owner alone can do that.)
   */
  static byte[] readRegular(Path file) throws IOException {
    BasicFileAttributes attributes =
        Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (!attributes.isRegularFile()) {
      throw new IOException(file + ": not a regular file, not read");
    }
    if (attributes.size() > MAX_READ_BYTES) {
      throw new IOException(file + ": larger than " + (MAX_READ_BYTES >> 20) + " MiB, not read");
    }
    try (SeekableByteChannel channel =
            Files.newByteChannel(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        InputStream in = Channels.newInputStream(channel)) {
      // readNBytes grows its buffer as it reads; a file still growing stops at the bound.
      byte[] bytes = in.readNBytes((int) MAX_READ_BYTES + 1);
      if (bytes.length > MAX_READ_BYTES) {
        throw new IOException(file + ": larger than " + (MAX_READ_BYTES >> 20) + " MiB, not read");
      }
      return bytes;
    }
  }

  /** File name of the {@code index}-th journal file (1-based). */
  public static String fileName(long index) {
    String digits = Long.toString(index); // what %06d gives, without a Formatter at every sync
    return "journal-" + "0".repeat(Math.max(0, 6 - digits.length())) + digits + ".jsonl";
  }

  /** The index encoded in a journal file name, or empty if {@code name} is not a journal file. */
  public static Optional<Long> fileIndex(String name) {
    Matcher m = FILE_NAME.matcher(name);
    return m.matches() ? Optional.of(Long.parseLong(m.group(1))) : Optional.empty();
  }

  /** SHA-256 of {@code bytes[off, off+len)} as lowercase hex. */
  public static String sha256Hex(byte[] bytes, int off, int len) {
    return sha256Hex(sha256(), bytes, off, len);
  }

  /** The same with a digest of the caller's, reset by the call. */
  static String sha256Hex(MessageDigest md, byte[] bytes, int off, int len) {
    md.update(bytes, off, len);
    return HexFormat.of().formatHex(md.digest());
  }

  /** A new SHA-256 digest. */
  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** What a checkpoint at {@code seq} signs. */
  public static String checkpointMessage(long seq, String prev, Instant time) {
    return "veriruntime-journal-checkpoint-v1|" + seq + "|" + prev + "|" + time;
  }

  /** What the head file signs. */
  public static String headMessage(JournalHead head) {
    return "veriruntime-journal-head-v1|"
        + head.file()
        + "|"
        + head.offset()
        + "|"
        + head.seq()
        + "|"
        + head.hash()
        + "|"
        + head.time();
  }
}
