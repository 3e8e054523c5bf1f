package dev.veriruntime.verifier.process;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Objects;
import java.util.Optional;

/**
 * Compares the bytes of one file-backed mapping in a process with the mapped file, a bounded chunk
 * at a time so that a caller can spread the work of a large process over many calls ({@link
 * CodeScan} does that for a whole process).
 *
 * <p>Rules: the mapping's byte at {@code start + i} must equal the file's byte at {@code offset +
 * i} while that lies inside the file. Past the end of the file the kernel maps zeros up to the end
 * of the page and nothing after it (an access there raises SIGBUS, and {@code /proc/PID/mem}
 * refuses it), so there the bytes must be zero until memory stops being readable.
 *
 * <p>Thread-safe: all state is in arguments and per-thread direct buffers (two of {@link
 * #chunkSize()} bytes per thread); neither the memory nor the channel is closed here.
 */
public final class MemoryCodeComparator {
  /** Default size of one read: large enough that system-call cost is noise. */
  public static final int DEFAULT_CHUNK_SIZE = 1 << 20;

  private final int chunkSize;
  private final ThreadLocal<ByteBuffer[]> buffers;

  public MemoryCodeComparator() {
    this(DEFAULT_CHUNK_SIZE);
  }

  public MemoryCodeComparator(int chunkSize) {
    if (chunkSize < 4096) {
      throw new IllegalArgumentException("chunk size below one page: " + chunkSize);
    }
    this.chunkSize = chunkSize;
    this.buffers =
        ThreadLocal.withInitial(
            () ->
                new ByteBuffer[] {
                  ByteBuffer.allocateDirect(chunkSize), ByteBuffer.allocateDirect(chunkSize)
                });
  }

  public int chunkSize() {
    return chunkSize;
  }

  /**
   * Where a {@link #compare} call stopped.
   *
   * @param position bytes from the mapping's start compared so far (the next call starts here)
   * @param bytesCompared bytes of memory read by this call
   * @param done true when the whole mapping was compared, or a difference was found
   * @param difference the first differing byte found by this call that is not tolerated
   * @param toleratedBytes differing bytes this call accepted because the tolerance covers them
   */
  public record Step(
      long position,
      long bytesCompared,
      boolean done,
      Optional<CodeDifference> difference,
      long toleratedBytes) {
    public Step {
      Objects.requireNonNull(difference, "difference");
    }
  }

  /** File offsets whose bytes may legitimately differ in memory (text relocation targets). */
  @FunctionalInterface
  public interface Tolerance {
    Tolerance NONE = fileOffset -> false;

    boolean tolerates(long fileOffset);
  }

  /**
   * Compares up to {@code maxBytes} of {@code mapping} starting {@code position} bytes after its
   * start, reading memory through {@code memory} and the file through {@code file} (which must be
   * the very file mapped, for example opened through {@code /proc/PID/map_files}).
   *
   * @throws ProcessGoneException if the process exited
   * @throws UnreadableMemoryException if memory that the file backs cannot be read
   * @throws IOException if the file cannot be read
   */
  public Step compare(
      ProcessMemory memory, MemoryMapping mapping, FileChannel file, long position, long maxBytes)
      throws IOException {
    return compare(memory, mapping, file, position, maxBytes, Tolerance.NONE);
  }

  /**
   * As {@link #compare(ProcessMemory, MemoryMapping, FileChannel, long, long)}, accepting (and
   * counting) differences at file offsets that {@code tolerance} covers.
   */
  public Step compare(
      ProcessMemory memory,
      MemoryMapping mapping,
      FileChannel file,
      long position,
      long maxBytes,
      Tolerance tolerance)
      throws IOException {
    if (position < 0 || maxBytes < 0) {
      throw new IllegalArgumentException(
          "negative position or budget: " + position + ", " + maxBytes);
    }
    long length = mapping.length();
    long fileSize = file.size();
    long inFile = Math.max(0, Math.min(length, fileSize - mapping.offset()));
    ByteBuffer[] bufs = buffers.get();
    ByteBuffer mem = bufs[0];
    ByteBuffer disk = bufs[1];
    long pos = position;
    long used = 0;
    long tolerated = 0;
    while (pos < length && used < maxBytes) {
      int want =
          (int)
              Math.min(
                  chunkSize, Math.min(maxBytes - used, (pos < inFile ? inFile : length) - pos));
      long address = mapping.start() + pos;
      mem.clear().limit(want);
      if (pos < inFile) {
        int got = memory.read(address, mem);
        if (got < want) {
          throw new UnreadableMemoryException(
              address + got,
              "memory at 0x"
                  + Long.toHexString(address + got)
                  + " is not readable although the file backs it ("
                  + mapping.pathname()
                  + ")",
              null);
        }
        disk.clear().limit(want);
        int fromFile = readFully(file, disk, mapping.offset() + pos);
        mem.flip();
        disk.flip();
        if (fromFile < want) {
          // The file shrank after it was mapped: what is left of this chunk is past its end now.
          inFile = pos + fromFile;
          mem.limit(fromFile);
        }
        used += mem.limit();
        int base = 0;
        int at;
        // Vectorized mismatch; after a tolerated byte, continue from the next one in the same
        // chunk.
        while ((at = mismatch(mem, disk, base)) >= 0) {
          long fileOffset = mapping.offset() + pos + at;
          if (!tolerance.tolerates(fileOffset)) {
            return new Step(
                pos + at,
                used,
                true,
                Optional.of(
                    new CodeDifference(
                        mapping.start() + pos + at,
                        fileOffset,
                        mem.get(at) & 0xff,
                        disk.get(at) & 0xff,
                        false)),
                tolerated);
          }
          tolerated++;
          base = at + 1;
        }
        pos += mem.limit();
      } else {
        int got;
        try {
          got = memory.read(address, mem);
        } catch (UnreadableMemoryException e) {
          got = 0;
        }
        mem.flip();
        for (int i = 0; i < got; i++) {
          if (mem.get(i) != 0) {
            return new Step(
                pos + i,
                used + got,
                true,
                Optional.of(
                    new CodeDifference(
                        mapping.start() + pos + i,
                        mapping.offset() + pos + i,
                        mem.get(i) & 0xff,
                        0,
                        true)),
                tolerated);
          }
        }
        used += got;
        if (got < want) {
          // Beyond the last page of the file: unreadable, and equally unusable by the process.
          return new Step(length, used, true, Optional.empty(), tolerated);
        }
        pos += got;
      }
    }
    return new Step(pos, used, pos >= length, Optional.empty(), tolerated);
  }

  /** Index of the first mismatch at or after {@code from} (same limits), or -1. */
  private static int mismatch(ByteBuffer a, ByteBuffer b, int from) {
    if (from >= a.limit()) {
      return -1;
    }
    int at = a.slice(from, a.limit() - from).mismatch(b.slice(from, a.limit() - from));
    return at < 0 ? -1 : from + at;
  }

  private static int readFully(FileChannel file, ByteBuffer dst, long offset) throws IOException {
    int total = 0;
    while (dst.hasRemaining()) {
      int n = file.read(dst, offset + total);
      if (n <= 0) {
        break;
      }
      total += n;
    }
    return total;
  }
}
