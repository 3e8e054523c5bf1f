package dev.veriruntime.verifier.elf;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A parsed ELF file: headers, segments, sections, dynamic linking information, build-id,
 * interpreter and, when requested from {@link ElfReader}, symbols and per-section SHA-256.
 *
 * <p>Immutable and thread-safe. Holds no file handle: everything it answers was read and
 * bounds-checked by {@link ElfReader#read}. Addresses are raw unsigned 64-bit values and lookups
 * compare them unsigned.
 */
public final class ElfFile {
  private final long fileSize;
  private final ElfHeader header;
  private final List<ProgramHeader> programHeaders;
  private final List<Section> sections;
  private final DynamicInfo dynamic;
  private final Optional<String> buildId;
  private final Optional<String> interpreter;
  private final List<ElfSymbol> symbols; // null when not read
  private final ElfSymbol[] symbolsByAddress; // sized, defined symbols sorted by value
  private final Map<String, String> sectionDigests; // null when not computed

  ElfFile(
      long fileSize,
      ElfHeader header,
      List<ProgramHeader> programHeaders,
      List<Section> sections,
      DynamicInfo dynamic,
      Optional<String> buildId,
      Optional<String> interpreter,
      List<ElfSymbol> symbols,
      Map<String, String> sectionDigests) {
    this.fileSize = fileSize;
    this.header = header;
    this.programHeaders = List.copyOf(programHeaders);
    this.sections = List.copyOf(sections);
    this.dynamic = dynamic;
    this.buildId = buildId;
    this.interpreter = interpreter;
    this.symbols = symbols == null ? null : List.copyOf(symbols);
    this.symbolsByAddress = symbols == null ? new ElfSymbol[0] : addressIndex(symbols);
    this.sectionDigests = sectionDigests;
  }

  private static ElfSymbol[] addressIndex(List<ElfSymbol> symbols) {
    return symbols.stream()
        .filter(s -> s.sectionIndex() != ElfSymbol.SHN_UNDEF && s.size() > 0)
        .filter(
            s ->
                s.type() != ElfSymbol.STT_TLS
                    && s.type() != ElfSymbol.STT_SECTION
                    && s.type() != ElfSymbol.STT_FILE)
        .filter(s -> !s.name().isEmpty())
        // Ties: the larger symbol first, then .symtab before .dynsym.
        .sorted(
            ((Comparator<ElfSymbol>) (a, b) -> Long.compareUnsigned(a.value(), b.value()))
                .thenComparing((a, b) -> Long.compareUnsigned(b.size(), a.size()))
                .thenComparing(ElfSymbol::dynamic))
        .toArray(ElfSymbol[]::new);
  }

  /** Size of the file in bytes when it was read. */
  public long fileSize() {
    return fileSize;
  }

  public ElfHeader header() {
    return header;
  }

  public List<ProgramHeader> programHeaders() {
    return programHeaders;
  }

  /** PT_LOAD segments in table order. */
  public List<ProgramHeader> loadSegments() {
    return programHeaders.stream().filter(ProgramHeader::isLoad).toList();
  }

  /** All sections including the null section at index 0; empty when there is no section table. */
  public List<Section> sections() {
    return sections;
  }

  /** The first section called {@code name}. */
  public Optional<Section> section(String name) {
    return sections.stream().filter(s -> s.name().equals(name)).findFirst();
  }

  /** Dynamic linking information; {@link DynamicInfo#NONE} for static executables. */
  public DynamicInfo dynamic() {
    return dynamic;
  }

  /** {@code NT_GNU_BUILD_ID} as lowercase hex. */
  public Optional<String> buildId() {
    return buildId;
  }

  /** {@code PT_INTERP}: the dynamic loader's path. */
  public Optional<String> interpreter() {
    return interpreter;
  }

  /** True when {@link ElfReader.Feature#SYMBOLS} was requested. */
  public boolean hasSymbols() {
    return symbols != null;
  }

  /**
   * Symbols of {@code .symtab} then {@code .dynsym}, in table order (index 0 of each omitted).
   *
   * @throws IllegalStateException if the reader was not created with {@link
   *     ElfReader.Feature#SYMBOLS}
   */
  public List<ElfSymbol> symbols() {
    if (symbols == null) {
      throw new IllegalStateException("symbols were not read: use ElfReader.Feature.SYMBOLS");
    }
    return symbols;
  }

  /**
   * The narrowest defined, sized symbol whose range contains {@code vaddr} ({@code .symtab}
   * preferred over {@code .dynsym} for equal ranges). Empty when none does, including when the file
   * is stripped of both tables.
   *
   * @throws IllegalStateException if symbols were not read
   */
  public Optional<ElfSymbol> symbolAtAddress(long vaddr) {
    symbols();
    ElfSymbol[] index = symbolsByAddress;
    int lo = 0;
    int hi = index.length - 1;
    int last = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (Long.compareUnsigned(index[mid].value(), vaddr) <= 0) {
        last = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    // Symbols may nest (a local label inside a function): look back a bounded distance.
    ElfSymbol best = null;
    for (int i = last, seen = 0; i >= 0 && seen < 256; i--, seen++) {
      ElfSymbol s = index[i];
      if (s.contains(vaddr) && (best == null || Long.compareUnsigned(s.size(), best.size()) < 0)) {
        best = s;
      }
    }
    return Optional.ofNullable(best);
  }

  /** {@link #symbolAtAddress} of the address the file offset is loaded at. */
  public Optional<ElfSymbol> symbolAtOffset(long fileOffset) {
    OptionalLong vaddr = offsetToAddress(fileOffset);
    return vaddr.isPresent() ? symbolAtAddress(vaddr.getAsLong()) : Optional.empty();
  }

  /** The section (with file bytes) that contains {@code fileOffset}. */
  public Optional<Section> sectionAtOffset(long fileOffset) {
    return sections.stream().filter(s -> s.size() > 0 && s.containsOffset(fileOffset)).findFirst();
  }

  /** The allocated section that contains {@code vaddr}. */
  public Optional<Section> sectionAtAddress(long vaddr) {
    return sections.stream().filter(s -> s.size() > 0 && s.containsAddress(vaddr)).findFirst();
  }

  /** The first PT_LOAD whose file range contains {@code fileOffset}. */
  public Optional<ProgramHeader> segmentAtOffset(long fileOffset) {
    return programHeaders.stream()
        .filter(p -> p.isLoad() && p.containsOffset(fileOffset))
        .findFirst();
  }

  /** The first PT_LOAD whose memory range contains {@code vaddr}. */
  public Optional<ProgramHeader> segmentAtAddress(long vaddr) {
    return programHeaders.stream().filter(p -> p.isLoad() && p.containsAddress(vaddr)).findFirst();
  }

  /** Where the loader maps {@code fileOffset} (relative to the load base for ET_DYN). */
  public OptionalLong offsetToAddress(long fileOffset) {
    return segmentAtOffset(fileOffset)
        .map(p -> OptionalLong.of(p.virtualAddress() + (fileOffset - p.offset())))
        .orElse(OptionalLong.empty());
  }

  /** The file offset whose byte the loader maps at {@code vaddr}; empty for bss and unmapped. */
  public OptionalLong addressToOffset(long vaddr) {
    for (ProgramHeader p : programHeaders) {
      if (p.isLoad() && p.containsAddress(vaddr)) {
        long delta = vaddr - p.virtualAddress();
        if (Long.compareUnsigned(delta, p.fileSize()) < 0) {
          return OptionalLong.of(p.offset() + delta);
        }
      }
    }
    return OptionalLong.empty();
  }

  /** True when {@link ElfReader.Feature#SECTION_DIGESTS} was requested. */
  public boolean hasSectionDigests() {
    return sectionDigests != null;
  }

  /**
   * SHA-256 (lowercase hex) of every allocated section that has file bytes, keyed by section name
   * in table order. A name used by more than one section gets {@code "name#index"} for the later
   * ones, so no section is silently dropped.
   *
   * @throws IllegalStateException if the reader was not created with {@link
   *     ElfReader.Feature#SECTION_DIGESTS}
   */
  public Map<String, String> sectionDigests() {
    if (sectionDigests == null) {
      throw new IllegalStateException(
          "section digests were not computed: use ElfReader.Feature.SECTION_DIGESTS");
    }
    return sectionDigests;
  }

  @Override
  public String toString() {
    return header.className()
        + " "
        + header.typeName()
        + " "
        + header.machineName()
        + ", "
        + programHeaders.size()
        + " segments, "
        + sections.size()
        + " sections"
        + buildId.map(b -> ", build-id " + b).orElse("");
  }
}
