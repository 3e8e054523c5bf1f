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

  abstract long size();

  /** Exactly {@code length} bytes at {@code offset}, as a heap buffer in {@code order}. */
  abstract ByteBuffer read(long offset, int length, ByteOrder order)
      throws IOException, MalformedElfException;

  /** Feeds {@code length} bytes at {@code offset} into {@code digest}. */
  abstract void digest(long offset, long length, MessageDigest digest)
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
    ByteBuffer read(long offset, int length, ByteOrder order) {
      byte[] out = new byte[length];
      buffer.get((int) offset, out, 0, length);
      return ByteBuffer.wrap(out).order(order);
    }

    @Override
    void digest(long offset, long length, MessageDigest digest) {
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
    ByteBuffer read(long offset, int length, ByteOrder order)
        throws IOException, MalformedElfException {
      ByteBuffer out = ByteBuffer.allocate(length).order(order);
      long position = offset;
      while (out.hasRemaining()) {
        int n = channel.read(out, position);
        if (n < 0) {
          throw new MalformedElfException(
              "file ended at " + position + " while reading " + length + " bytes at 0x"
                  + Long.toHexString(offset) + " (size was " + size + "): changed while reading?");
        }
        position += n;
      }
      return out.flip();
    }

    @Override
    void digest(long offset, long length, MessageDigest digest)
        throws IOException, MalformedElfException {
      long read = Sha256.update(digest, channel, offset, length);
      if (read != length) {
        throw new MalformedElfException(
            "file ended at " + (offset + read) + " while hashing " + length + " bytes at 0x"
                + Long.toHexString(offset) + " (size was " + size + "): changed while reading?");
      }
    }
  }
}
