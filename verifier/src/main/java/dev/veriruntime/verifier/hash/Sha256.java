package dev.veriruntime.verifier.hash;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 of files, file ranges and buffers through {@link MessageDigest} (the JDK's intrinsic,
 * SHA-NI where the CPU has it).
 *
 * <p>Regular files are hashed through read-only mappings of 4 MiB at a time: measured on the target
 * machine this is the fastest way through the JDK's SHA-NI intrinsic (1.34 GB/s, 1.2× {@code
 * openssl dgst}), where 1 MiB reads reach 0.80 GB/s because every byte is copied once more. Each
 * mapping is released as soon as it is hashed ({@link Unmapper}), not when the garbage collector
 * gets to it, so hashing a large file never holds more than one chunk of it in the agent's resident
 * memory (a mapped chunk's pages count in the agent's RSS until it is released: 4 MiB chunks hash
 * as fast as 16 MiB ones, 0.77 / 0.73 and 0.55 / 0.57 GB/s best of 8 on a 128 MiB file at a load
 * average of 20, and keep 12 MiB less resident per hashing thread). A file truncated while it is
 * being hashed makes the mapped access fault; that fault (an {@link InternalError} from the JDK) is
 * reported as an {@link IOException}. Files whose size the kernel reports as 0 (procfs) and ranges
 * under 1 MiB are read with positional reads into a per-thread 256 KiB direct buffer instead (one
 * per hashing thread, for the agent's life; 1 MiB reads were no faster: 0.63 / 0.65 and 0.57 / 0.56
 * GB/s in the same runs). Reading always continues to end of file, so a file that grows while
 * hashed is hashed to its new end, like {@code sha256sum} would.
 *
 * <p>Positional reads and mappings leave the channel's position alone, so one open channel may be
 * hashed by several threads at once.
 *
 * <p>Thread safety: all methods are static and thread-safe; each thread reuses its own direct
 * buffer. Nothing here closes a channel it was given.
 *
 * <pre>{@code
 * try (FileChannel exe = FileChannel.open(Path.of("/proc/" + pid + "/exe"))) {
 *   String hex = Sha256.hex(exe);
 * }
 * }</pre>
 */
public final class Sha256 {
  /** Size of the per-thread read buffer: large enough that syscall cost is noise. */
  public static final int BUFFER_SIZE = 1 << 18;

  /** Size of one mapping: large enough that mapping cost is noise, small enough for 32-bit ints. */
  static final long MAP_CHUNK = 4L << 20;

  /** Below this, mapping costs more than the copy it saves. */
  static final long MAP_THRESHOLD = 1L << 20;

  private static final HexFormat HEX = HexFormat.of();
  private static final ThreadLocal<ByteBuffer> BUFFER =
      ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(BUFFER_SIZE));

  private Sha256() {}

  /** A new SHA-256 {@link MessageDigest}. */
  public static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /**
   * Lowercase hex of {@code digest}: formats a digest, it does not hash (the other {@code hex}
   * methods hash their file or channel and format the result).
   */
  public static String hex(byte[] digest) {
    return HEX.formatHex(digest);
  }

  public static byte[] digest(byte[] bytes) {
    return newDigest().digest(bytes);
  }

  /** Digest of the remaining bytes of {@code buffer}; its position is not changed. */
  public static byte[] digest(ByteBuffer buffer) {
    MessageDigest md = newDigest();
    md.update(buffer.duplicate());
    return md.digest();
  }

  /**
   * Digest of the file at {@code path}. Symbolic links are followed, as exec would; use {@link
   * #digest(FileChannel)} on a channel you opened when identity matters.
   */
  public static byte[] digest(Path path) throws IOException {
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      return digest(channel);
    }
  }

  public static String hex(Path path) throws IOException {
    return hex(digest(path));
  }

  /** Digest of the whole content of an open channel, from offset 0 to end of file. */
  public static byte[] digest(FileChannel channel) throws IOException {
    MessageDigest md = newDigest();
    long size = channel.size();
    long mapped = size >= MAP_THRESHOLD ? updateMapped(md, channel, 0, size) : 0;
    update(md, channel, mapped, Long.MAX_VALUE - mapped);
    return md.digest();
  }

  /** {@link #digest(FileChannel)} with positional reads only: for comparison in benchmarks. */
  public static byte[] digestByReads(FileChannel channel) throws IOException {
    MessageDigest md = newDigest();
    updateByReads(md, channel, 0, Long.MAX_VALUE);
    return md.digest();
  }

  public static String hex(FileChannel channel) throws IOException {
    return hex(digest(channel));
  }

  /**
   * Digest of {@code length} bytes at {@code offset}.
   *
   * @throws java.io.EOFException if the file ends before {@code offset + length}
   */
  public static byte[] digest(FileChannel channel, long offset, long length) throws IOException {
    MessageDigest md = newDigest();
    long read = update(md, channel, offset, length);
    if (read != length) {
      throw new java.io.EOFException(
          "file ended after " + read + " of " + length + " bytes at offset " + offset);
    }
    return md.digest();
  }

  /**
   * Feeds up to {@code length} bytes at {@code offset} into {@code md}, stopping early at end of
   * file. Returns the number of bytes fed.
   */
  public static long update(MessageDigest md, FileChannel channel, long offset, long length)
      throws IOException {
    if (offset < 0 || length < 0) {
      throw new IllegalArgumentException("negative offset or length: " + offset + ", " + length);
    }
    long done = 0;
    if (length >= MAP_THRESHOLD) {
      long size = channel.size();
      if (offset < size) {
        done = updateMapped(md, channel, offset, Math.min(length, size - offset));
      }
    }
    return done + updateByReads(md, channel, offset + done, length - done);
  }

  /** Positional reads into the per-thread buffer; stops early at end of file. */
  private static long updateByReads(MessageDigest md, FileChannel channel, long offset, long length)
      throws IOException {
    long done = 0;
    ByteBuffer buffer = BUFFER.get();
    while (done < length) {
      buffer.clear();
      long want = Math.min(buffer.capacity(), length - done);
      buffer.limit((int) want);
      int n = channel.read(buffer, offset + done);
      if (n < 0) {
        break;
      }
      buffer.flip();
      md.update(buffer);
      done += n;
    }
    return done;
  }

  /** Hashes {@code [offset, offset + length)} through mappings; the range must be in the file. */
  private static long updateMapped(MessageDigest md, FileChannel channel, long offset, long length)
      throws IOException {
    long done = 0;
    try {
      while (done < length) {
        long len = Math.min(MAP_CHUNK, length - done);
        MappedByteBuffer chunk = channel.map(FileChannel.MapMode.READ_ONLY, offset + done, len);
        md.update(chunk);
        Unmapper.unmap(chunk);
        done += len;
      }
    } catch (InternalError e) {
      // The JDK turns SIGBUS on a mapping of a file truncated under us into this error.
      throw new IOException(
          "file shrank while being hashed (fault at or after offset " + (offset + done) + ")", e);
    } catch (UnsupportedOperationException e) {
      return done; // not mappable (some special files): the caller reads the rest
    }
    return done;
  }

  /** {@link #digest(FileChannel)} through mappings only: for comparison in benchmarks. */
  public static byte[] digestMapped(FileChannel channel) throws IOException {
    MessageDigest md = newDigest();
    updateMapped(md, channel, 0, channel.size());
    return md.digest();
  }
}
