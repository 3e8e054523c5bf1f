package dev.veriruntime.verifier.elf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.Set;

/**
 * Reads ELF32 and ELF64 files of either byte order from untrusted input.
 *
 * <p>Every offset, size and count is checked against the file size and against fixed limits before
 * it is used, so that any input ends in an {@link ElfFile} or a {@link MalformedElfException} whose
 * message names the offending field: never another runtime exception, an allocation larger than the
 * limits below, or a loop longer than the counts they bound. Only the tables the reader needs are
 * read (headers, name and symbol tables, the dynamic section, notes); the file is never loaded
 * whole into the heap.
 *
 * <p>Instances are immutable and thread-safe; the reader never closes a channel it was given.
 *
 * <pre>{@code
 * ElfFile elf = ElfReader.create(Feature.SECTION_DIGESTS).read(Path.of("/usr/bin/ls"));
 * List<String> needed = elf.dynamic().needed();
 * String text = elf.sectionDigests().get(".text");
 * }</pre>
 */
public final class ElfReader {
  /** Most program headers or section headers accepted (the format's 16-bit counts). */
  public static final int MAX_HEADERS = 65_535;

  /** Most symbols accepted from {@code .symtab} and {@code .dynsym} together. */
  public static final int MAX_SYMBOLS = 4_000_000;

  /** Largest string table read (section names, symbol names, dynamic strings). */
  public static final int MAX_STRING_TABLE = 64 << 20;

  /** Longest single name (section, symbol, library, path) accepted. */
  public static final int MAX_NAME = 64 << 10;

  /** Most bytes of names (sections, symbols, dynamic strings) materialised from one file. */
  public static final long MAX_NAME_BYTES_TOTAL = 128L << 20;

  /** Most dynamic-section entries read. */
  public static final int MAX_DYNAMIC_ENTRIES = 1 << 16;

  /** Largest note segment or section scanned for the build-id. */
  public static final int MAX_NOTES = 1 << 20;

  /** What to read beyond headers, sections, dynamic information, build-id and interpreter. */
  public enum Feature {
    /** Read {@code .symtab} and {@code .dynsym} so that addresses map to symbol names. */
    SYMBOLS,
    /** SHA-256 of every allocated section with file bytes (hashes most of the file). */
    SECTION_DIGESTS
  }

  private final Set<Feature> features;

  private ElfReader(Set<Feature> features) {
    this.features = features;
  }

  /** A reader that also reads what {@code features} ask for. */
  public static ElfReader create(Feature... features) {
    EnumSet<Feature> set = EnumSet.noneOf(Feature.class);
    for (Feature f : features) {
      set.add(f);
    }
    return new ElfReader(set);
  }

  /** A reader with every feature: symbols and section digests. */
  public static ElfReader full() {
    return new ElfReader(EnumSet.allOf(Feature.class));
  }

  /**
   * Reads the file at {@code path} (following symbolic links, as exec would).
   *
   * @throws IOException if the file cannot be opened or read
   * @throws MalformedElfException if it is not a well-formed ELF file
   */
  public ElfFile read(Path path) throws IOException, MalformedElfException {
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      return read(channel);
    }
  }

  /**
   * Reads the file behind an open channel, from offset 0 to its size at the time of the call, with
   * positional reads (the channel's position is not changed; the channel is not closed).
   */
  public ElfFile read(FileChannel channel) throws IOException, MalformedElfException {
    return new ElfParser(ByteSource.of(channel), features).parse();
  }

  /** Reads the remaining bytes of {@code buffer}; its position is not changed. */
  public ElfFile read(ByteBuffer buffer) throws MalformedElfException {
    try {
      return new ElfParser(ByteSource.of(buffer), features).parse();
    } catch (IOException e) {
      throw new AssertionError("a buffer source does no I/O", e);
    }
  }

  public ElfFile read(byte[] bytes) throws MalformedElfException {
    return read(ByteBuffer.wrap(bytes));
  }
}
