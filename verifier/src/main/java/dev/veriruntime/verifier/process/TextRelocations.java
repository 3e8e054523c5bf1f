package dev.veriruntime.verifier.process;

import dev.veriruntime.verifier.elf.ElfFile;
import dev.veriruntime.verifier.elf.Section;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;
import java.util.OptionalLong;

/**
 * The file ranges that the dynamic loader rewrites in a file with text relocations ({@code
 * DT_TEXTREL}): each dynamic relocation's target, as a file offset, widened to the word size. In
 * memory those bytes legitimately differ from the file; all others must not.
 *
 * <p>The width is the word size (8 bytes for ELF64, 4 for ELF32) whatever the relocation type, so a
 * 4-byte relocation tolerates 4 more bytes than strictly needed. Immutable and thread-safe.
 */
public final class TextRelocations {
  /** Most relocation entries read from one file. */
  public static final int MAX_ENTRIES = 4_000_000;

  private final long[] starts; // sorted file offsets
  private final int width;

  private TextRelocations(long[] starts, int width) {
    this.starts = starts;
    this.width = width;
  }

  /**
   * Reads the dynamic relocation sections ({@code SHT_RELA} and {@code SHT_REL} with {@code
   * SHF_ALLOC}) of {@code elf} from {@code file}.
   *
   * @throws IOException if the file cannot be read
   */
  public static TextRelocations read(ElfFile elf, FileChannel file) throws IOException {
    boolean is64 = elf.header().is64Bit();
    int width = is64 ? 8 : 4;
    long[] out = new long[64];
    int n = 0;
    for (Section s : elf.sections()) {
      if (!s.isAlloc()
          || (s.type() != Section.SHT_RELA && s.type() != Section.SHT_REL)
          || s.size() == 0) {
        continue;
      }
      int entry = s.type() == Section.SHT_RELA ? (is64 ? 24 : 12) : (is64 ? 16 : 8);
      long count = Math.min(s.size() / entry, MAX_ENTRIES - n);
      ByteBuffer table =
          ByteBuffer.allocate((int) Math.min(count * entry, Integer.MAX_VALUE - 8))
              .order(elf.header().byteOrder());
      while (table.hasRemaining() && file.read(table, s.offset() + table.position()) > 0) {
        // positional reads until the table is complete or the file ends
      }
      table.flip();
      for (int i = 0; i + entry <= table.limit(); i += entry) {
        long vaddr = is64 ? table.getLong(i) : Integer.toUnsignedLong(table.getInt(i));
        OptionalLong offset = elf.addressToOffset(vaddr);
        if (offset.isPresent()) {
          if (n == out.length) {
            out = Arrays.copyOf(out, n * 2);
          }
          out[n++] = offset.getAsLong();
        }
      }
    }
    long[] sorted = Arrays.copyOf(out, n);
    Arrays.sort(sorted);
    return new TextRelocations(sorted, width);
  }

  /** True when the loader may have written the byte at {@code fileOffset}. */
  public boolean covers(long fileOffset) {
    int i = Arrays.binarySearch(starts, fileOffset);
    if (i >= 0) {
      return true;
    }
    int before = -i - 2;
    return before >= 0 && fileOffset - starts[before] < width;
  }

  public int size() {
    return starts.length;
  }
}
