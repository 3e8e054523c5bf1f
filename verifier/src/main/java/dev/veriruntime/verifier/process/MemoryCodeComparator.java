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
  /**
   * Default size of one read: system-call cost is noise, and both buffers stay in a 1 MiB L2 cache.
   */
  public static final int DEFAULT_CHUNK_SIZE = 256 << 10;

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
    Cursor c = new Cursor(position, Math.max(0, Math.min(length, fileSize - mapping.offset())));
    ByteBuffer[] bufs = buffers.get();
    while (c.pos < length && c.used < maxBytes) {
      int want =
          (int)
              Math.min(
                  chunkSize,
                  Math.min(maxBytes - c.used, (c.pos < c.inFile ? c.inFile : length) - c.pos));
      Step end =
          c.pos < c.inFile
              ? compareFileBacked(memory, mapping, file, tolerance, c, want, bufs[0], bufs[1])
              : compareBeyondFile(memory, mapping, c, want, bufs[0]);
      if (end != null) {
        return end;
      }
    }
    return new Step(c.pos, c.used, c.pos >= length, Optional.empty(), c.tolerated);
  }

  /** Where one comparison stands: position in the mapping, bytes read, differences tolerated. */
  private static final class Cursor {
    long pos;
    long used;
    long tolerated;

    /** Bytes of the mapping that the file backs; shrinks if the file does. */
    long inFile;

    Cursor(long pos, long inFile) {
      this.pos = pos;
      this.inFile = inFile;
    }
  }

  /**
   * One chunk that the file backs: memory must equal the file, except at tolerated offsets.
   *
   * @return the step that ends the comparison at a difference, or null to go on
   */
  private static Step compareFileBacked(
      ProcessMemory memory,
      MemoryMapping mapping,
      FileChannel file,
      Tolerance tolerance,
      Cursor c,
      int want,
      ByteBuffer mem,
      ByteBuffer disk)
      throws IOException {
    long address = mapping.start() + c.pos;
    mem.clear().limit(want);
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
    int fromFile = readFully(file, disk, mapping.offset() + c.pos);
    mem.flip();
    disk.flip();
    if (fromFile < want) {
      // The file shrank after it was mapped: what is left of this chunk is past its end now.
      c.inFile = c.pos + fromFile;
      mem.limit(fromFile);
    }
    c.used += mem.limit();
    int base = 0;
    int at;
    // Vectorized mismatch; after a tolerated byte, continue from the next one in the same chunk.
    while ((at = mismatch(mem, disk, base)) >= 0) {
      long fileOffset = mapping.offset() + c.pos + at;
      if (!tolerance.tolerates(fileOffset)) {
        CodeDifference difference =
            new CodeDifference(
                mapping.start() + c.pos + at,
                fileOffset,
                mem.get(at) & 0xff,
                disk.get(at) & 0xff,
                false);
        return new Step(c.pos + at, c.used, true, Optional.of(difference), c.tolerated);
      }
      c.tolerated++;
      base = at + 1;
    }
    c.pos += mem.limit();
    return null;
  }

  /**
   * One chunk past the end of the file, where the mapping must read as zeros.
   *
   * @return the step that ends the comparison (at a non-zero byte, or where memory stops being
   *     readable), or null to go on
   */
  private static Step compareBeyondFile(
      ProcessMemory memory, MemoryMapping mapping, Cursor c, int want, ByteBuffer mem)
      throws IOException {
    long address = mapping.start() + c.pos;
    mem.clear().limit(want);
    int got;
    try {
      got = memory.read(address, mem);
    } catch (UnreadableMemoryException e) {
      got = 0;
    }
    mem.flip();
    for (int i = 0; i < got; i++) {
      if (mem.get(i) != 0) {
        CodeDifference difference =
            new CodeDifference(
                mapping.start() + c.pos + i,
                mapping.offset() + c.pos + i,
                mem.get(i) & 0xff,
                0,
                true);
        return new Step(c.pos + i, c.used + got, true, Optional.of(difference), c.tolerated);
      }
    }
    c.used += got;
    if (got < want) {
      // Beyond the last page of the file: unreadable, and equally unusable by the process.
      return new Step(mapping.length(), c.used, true, Optional.empty(), c.tolerated);
    }
    c.pos += got;
    return null;
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
