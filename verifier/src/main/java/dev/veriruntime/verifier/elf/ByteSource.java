package dev.veriruntime.verifier.elf;

import dev.veriruntime.verifier.hash.Sha256;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;

/**
 * Bounded random access to the bytes of one ELF file. Callers check {@code offset + length <=
 * size()} before reading; a source that turns out shorter than its announced size (a file truncated
 * while being read) reports that as malformed input rather than returning short data.
 */
abstract class ByteSource {

  /**
   * Bytes this source will still read or hash. Every legitimate parse touches each byte of the file
   * a small number of times; overlapping tables could otherwise make the work grow with the number
   * of sections times the file size.
   */
  private long workBudget = Long.MAX_VALUE;

  abstract long size();

  /** Caps the total bytes read and hashed from now on. */
  void limitWork(long bytes) {
    workBudget = bytes;
  }

  /** Exactly {@code length} bytes at {@code offset}, as a heap buffer in {@code order}. */
  final ByteBuffer read(long offset, int length, ByteOrder order)
      throws IOException, MalformedElfException {
    checkInside(offset, length);
    return readChecked(offset, length, order);
  }

  /** Feeds {@code length} bytes at {@code offset} into {@code digest}. */
  final void digest(long offset, long length, MessageDigest digest)
      throws IOException, MalformedElfException {
    checkInside(offset, length);
    digestChecked(offset, length, digest);
  }

  /**
   * The parser checks every range before reading; this second check turns a parser bug into a
   * precise MalformedElfException instead of an IndexOutOfBoundsException.
   */
  private void checkInside(long offset, long length) throws MalformedElfException {
    if (offset < 0 || length < 0 || offset > size() || length > size() - offset) {
      throw new MalformedElfException(
          String.format(
              "read of 0x%x bytes at offset 0x%x past end of file (size %d)",
              length, offset, size()));
    }
    if (length > workBudget) {
      throw new MalformedElfException(
          String.format(
              "reading 0x%x bytes at offset 0x%x exceeds the work limit for a file of %d bytes:"
                  + " tables or sections overlap too much",
              length, offset, size()));
    }
    workBudget -= length;
  }

  abstract ByteBuffer readChecked(long offset, int length, ByteOrder order)
      throws IOException, MalformedElfException;

  abstract void digestChecked(long offset, long length, MessageDigest digest)
      throws IOException, MalformedElfException;

  static ByteSource of(ByteBuffer buffer) {
    return new BufferSource(buffer.slice());
  }

  static ByteSource of(FileChannel channel) throws IOException {
    return new ChannelSource(channel, channel.size());
  }

  private static final class BufferSource extends ByteSource {
    private final ByteBuffer buffer;

    BufferSource(ByteBuffer buffer) {
      this.buffer = buffer;
    }

    @Override
    long size() {
      return buffer.remaining();
    }

    @Override
    ByteBuffer readChecked(long offset, int length, ByteOrder order) {
      byte[] out = new byte[length];
      buffer.get((int) offset, out, 0, length);
      return ByteBuffer.wrap(out).order(order);
    }

    @Override
    void digestChecked(long offset, long length, MessageDigest digest) {
      digest.update(buffer.slice((int) offset, (int) length));
    }
  }

  private static final class ChannelSource extends ByteSource {
    private final FileChannel channel;
    private final long size;

    ChannelSource(FileChannel channel, long size) {
      this.channel = channel;
      this.size = size;
    }

    @Override
    long size() {
      return size;
    }

    @Override
    ByteBuffer readChecked(long offset, int length, ByteOrder order)
        throws IOException, MalformedElfException {
      ByteBuffer out = ByteBuffer.allocate(length).order(order);
      long position = offset;
      while (out.hasRemaining()) {
        int n = channel.read(out, position);
        if (n < 0) {
          throw new MalformedElfException(
              "file ended at "
                  + position
                  + " while reading "
                  + length
                  + " bytes at 0x"
                  + Long.toHexString(offset)
                  + " (size was "
                  + size
                  + "): changed while reading?");
        }
        position += n;
      }
      return out.flip();
    }

    @Override
    void digestChecked(long offset, long length, MessageDigest digest)
        throws IOException, MalformedElfException {
      long read = Sha256.update(digest, channel, offset, length);
      if (read != length) {
        throw new MalformedElfException(
            "file ended at "
                + (offset + read)
                + " while hashing "
                + length
                + " bytes at 0x"
                + Long.toHexString(offset)
                + " (size was "
                + size
                + "): changed while reading?");
      }
    }
  }
}
