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
 * SHA-256 of files, file ranges and buffers through {@link MessageDigest} (the JDK's intrinsic, SHA-NI
 * where the CPU has it).
 *
 * <p>Files are read with positional reads into a 1 MiB direct buffer: the kernel copies straight
 * into it (a heap buffer would cost NIO a second copy through its own direct buffer), and the
 * digest consumes it in small chunks that stay in L1 cache. Positional reads leave the channel's
 * position alone, so one open channel may be hashed by several threads at once. Reading stops at end of file rather than at {@link
 * FileChannel#size()}, so files whose size the kernel reports as 0 (procfs) hash correctly.
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
  public static final int BUFFER_SIZE = 1 << 20;

  /** Size of one mapping in {@link #digestMapped}. */
  static final long MAP_CHUNK = 64L << 20;

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

  /** Lowercase hex of {@code digest}. */
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

  public static String hex(ByteBuffer buffer) {
    return hex(digest(buffer));
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
    update(md, channel, 0, Long.MAX_VALUE);
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
    ByteBuffer buffer = BUFFER.get();
    long done = 0;
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

  /**
   * The same digest as {@link #digest(FileChannel)}, computed by mapping the file in 64 MiB chunks
   * instead of reading it. Kept for the benchmark that decides between the two; prefer {@link
   * #digest(FileChannel)}, which cannot fault if the file is truncated while it is hashed.
   */
  public static byte[] digestMapped(FileChannel channel) throws IOException {
    MessageDigest md = newDigest();
    long size = channel.size();
    for (long pos = 0; pos < size; pos += MAP_CHUNK) {
      long len = Math.min(MAP_CHUNK, size - pos);
      MappedByteBuffer map = channel.map(FileChannel.MapMode.READ_ONLY, pos, len);
      md.update(map);
    }
    return md.digest();
  }
}
