package dev.veriruntime.verifier.elf;

import dev.veriruntime.verifier.hash.Sha256;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One parse of one file. Not thread-safe; {@link ElfReader} creates one per call.
 *
 * <p>The rule throughout: a value read from the file is checked (non-negative, within the file,
 * within a limit) before it is used as an offset, a length or a count, and all arithmetic on such
 * values is exact.
 */
final class ElfParser {
  private static final int EI_NIDENT = 16;
  private static final int SHN_UNDEF = 0;
  private static final int SHN_LORESERVE = 0xff00;
  private static final int SHN_XINDEX = 0xffff;
  private static final int PN_XNUM = 0xffff;
  private static final int NT_GNU_BUILD_ID = 3;
  private static final int MAX_BUILD_ID = 64;

  /** Bytes of a symbol table read per I/O, so huge tables never need one huge buffer. */
  private static final int SYMBOL_CHUNK = 64 << 10;

  private final ByteSource source;
  private final Set<ElfReader.Feature> features;
  private final long size;
  private ByteOrder order;
  private boolean is64;
  private long nameBudget = ElfReader.MAX_NAME_BYTES_TOTAL;

  ElfParser(ByteSource source, Set<ElfReader.Feature> features) {
    this.source = source;
    this.features = features;
    this.size = source.size();
    // Headers, tables and notes are read about once, section digests hash the loaded part once:
    // three times the file size is generous for any real file and keeps hostile ones linear.
    long slack = 16L << 20;
    source.limitWork(size > (Long.MAX_VALUE - slack) / 3 ? Long.MAX_VALUE : 3 * size + slack);
  }

  ElfFile parse() throws IOException, MalformedElfException {
    ElfHeader header = readHeader();
    List<ProgramHeader> segments = readProgramHeaders(header);
    List<Section> sections = readSections(header);
    Optional<String> interpreter = readInterpreter(segments);
    DynamicInfo dynamic = readDynamic(segments, sections);
    Optional<String> buildId = readBuildId(segments, sections);
    List<ElfSymbol> symbols =
        features.contains(ElfReader.Feature.SYMBOLS) ? readSymbols(sections) : null;
    Map<String, String> digests =
        features.contains(ElfReader.Feature.SECTION_DIGESTS) ? digestSections(sections) : null;
    return new ElfFile(
        size, header, segments, sections, dynamic, buildId, interpreter, symbols, digests);
  }

  // ---------------------------------------------------------------- file header

  private ElfHeader readHeader() throws IOException, MalformedElfException {
    checkMagic();
    ByteBuffer ident = readIdentification();
    int elfClass = ident.get(4) & 0xff;
    int ehsize = is64 ? 64 : 52;
    if (size < ehsize) {
      throw new MalformedElfException(
          "file of "
              + size
              + " bytes is too short for the "
              + (is64 ? "ELF64" : "ELF32")
              + " header ("
              + ehsize
              + " bytes)");
    }
    ByteBuffer h = source.read(0, ehsize, order);
    int type = u16(h, 16);
    int machine = u16(h, 18);
    long version = u32(h, 20);
    long entry = is64 ? h.getLong(24) : u32(h, 24);
    long phoff = is64 ? offsetValue("e_phoff", h.getLong(32)) : u32(h, 28);
    long shoff = is64 ? offsetValue("e_shoff", h.getLong(40)) : u32(h, 32);
    int p = is64 ? 48 : 36;
    int flags = h.getInt(p);
    int headerSize = u16(h, p + 4);
    int phentsize = u16(h, p + 6);
    int shentsize = u16(h, p + 10);
    if (headerSize < ehsize) {
      throw new MalformedElfException(
          "e_ehsize " + headerSize + " is smaller than the " + ehsize + "-byte header");
    }
    TableCounts counts =
        extendedNumbering(
            shoff, shentsize, new TableCounts(u16(h, p + 8), u16(h, p + 12), u16(h, p + 14)));
    checkHeaderTables(phoff, phentsize, shoff, shentsize, counts);
    return new ElfHeader(
        elfClass,
        order,
        ident.get(7) & 0xff,
        ident.get(8) & 0xff,
        type,
        machine,
        version,
        entry,
        phoff,
        shoff,
        flags,
        headerSize,
        phentsize,
        counts.phnum(),
        shentsize,
        counts.shnum(),
        counts.shstrndx());
  }

  /** The magic first, so that short non-ELF files are called what they are. */
  private void checkMagic() throws IOException, MalformedElfException {
    ByteBuffer magic = source.read(0, (int) Math.min(4, size), ByteOrder.LITTLE_ENDIAN);
    byte[] m = magic.array();
    if (m.length < 4 || m[0] != 0x7f || m[1] != 'E' || m[2] != 'L' || m[3] != 'F') {
      StringBuilder hex = new StringBuilder();
      for (byte b : m) {
        hex.append(String.format("%02x ", b));
      }
      throw new MalformedElfException(
          "not an ELF file: magic "
              + hex.toString().strip()
              + (m.length < 4 ? " (file of " + size + " bytes)" : "")
              + ", expected 7f 45 4c 46");
    }
  }

  /** {@code e_ident}: class, byte order and version, which set {@link #is64} and {@link #order}. */
  private ByteBuffer readIdentification() throws IOException, MalformedElfException {
    if (size < EI_NIDENT) {
      throw new MalformedElfException(
          "file of " + size + " bytes is too short for an ELF identification (16 bytes)");
    }
    ByteBuffer ident = source.read(0, EI_NIDENT, ByteOrder.LITTLE_ENDIAN);
    int elfClass = ident.get(4) & 0xff;
    if (elfClass != ElfHeader.ELFCLASS32 && elfClass != ElfHeader.ELFCLASS64) {
      throw new MalformedElfException(
          "EI_CLASS " + elfClass + " is neither 1 (ELF32) nor 2 (ELF64)");
    }
    is64 = elfClass == ElfHeader.ELFCLASS64;
    int data = ident.get(5) & 0xff;
    if (data == 1) {
      order = ByteOrder.LITTLE_ENDIAN;
    } else if (data == 2) {
      order = ByteOrder.BIG_ENDIAN;
    } else {
      throw new MalformedElfException("EI_DATA " + data + " is neither 1 (LSB) nor 2 (MSB)");
    }
    int identVersion = ident.get(6) & 0xff;
    if (identVersion != 1) {
      throw new MalformedElfException("EI_VERSION " + identVersion + " is not 1 (EV_CURRENT)");
    }
    return ident;
  }

  /** {@code e_phnum}, {@code e_shnum} and {@code e_shstrndx}, extended numbering resolved. */
  private record TableCounts(int phnum, int shnum, int shstrndx) {}

  /** Extended numbering keeps the real counts in section header 0. */
  private TableCounts extendedNumbering(long shoff, int shentsize, TableCounts counts)
      throws IOException, MalformedElfException {
    int phnum = counts.phnum();
    int shnum = counts.shnum();
    int shstrndx = counts.shstrndx();
    if (shoff == 0 || (shnum != 0 && shstrndx != SHN_XINDEX && phnum != PN_XNUM)) {
      return counts;
    }
    int shMin = is64 ? 64 : 40;
    checkEntrySize("e_shentsize", shentsize, shMin);
    checkRange("section header 0 (e_shoff)", shoff, shentsize);
    ByteBuffer s0 = source.read(shoff, shMin, order);
    if (shnum == 0) {
      long real = is64 ? s0.getLong(32) : u32(s0, 20);
      if (real < 0 || real > ElfReader.MAX_HEADERS) {
        throw new MalformedElfException(
            "extended section count (section 0 sh_size) "
                + Long.toUnsignedString(real)
                + " exceeds the limit of "
                + ElfReader.MAX_HEADERS);
      }
      shnum = (int) real;
    }
    if (shstrndx == SHN_XINDEX) {
      shstrndx = (int) Math.min(u32(s0, is64 ? 40 : 24), Integer.MAX_VALUE);
    }
    if (phnum == PN_XNUM) {
      long real = u32(s0, is64 ? 44 : 28);
      if (real > ElfReader.MAX_HEADERS) {
        throw new MalformedElfException(
            "extended segment count (section 0 sh_info) "
                + real
                + " exceeds the limit of "
                + ElfReader.MAX_HEADERS);
      }
      phnum = (int) real;
    }
    return new TableCounts(phnum, shnum, shstrndx);
  }

  /** Both header tables lie inside the file, with entries of the one size the kernel accepts. */
  private void checkHeaderTables(
      long phoff, int phentsize, long shoff, int shentsize, TableCounts counts)
      throws MalformedElfException {
    if (counts.phnum() > 0) {
      checkEntrySize("e_phentsize", phentsize, is64 ? 56 : 32);
      checkTable("e_phoff", phoff, "e_phnum", counts.phnum(), "e_phentsize", phentsize);
    }
    int shnum = counts.shnum();
    if (shnum > 0) {
      if (shoff == 0) {
        throw new MalformedElfException("e_shnum " + shnum + " with e_shoff 0");
      }
      checkEntrySize("e_shentsize", shentsize, is64 ? 64 : 40);
      checkTable("e_shoff", shoff, "e_shnum", shnum, "e_shentsize", shentsize);
      if (counts.shstrndx() != SHN_UNDEF && counts.shstrndx() >= shnum) {
        throw new MalformedElfException(
            "e_shstrndx " + counts.shstrndx() + " is not below e_shnum " + shnum);
      }
    }
  }

  /**
   * The kernel insists on {@code e_phentsize == sizeof(Elf_Phdr)}; holding section headers to the
   * same rule also bounds both tables to 65,535 * 64 bytes.
   */
  private static void checkEntrySize(String field, int value, int expected)
      throws MalformedElfException {
    if (value != expected) {
      throw new MalformedElfException(
          field + " " + value + " is not " + expected + " (the size of one entry)");
    }
  }

  private void checkTable(
      String offField, long off, String numField, int num, String entField, int ent)
      throws MalformedElfException {
    long bytes = (long) num * ent; // both < 2^16: cannot overflow
    long end = off + bytes; // off <= 2^63-1 and bytes < 2^32: check overflow anyway
    if (end < off || end > size) {
      throw new MalformedElfException(
          String.format(
              "%s 0x%x + %s*%s (%d*%d) past end of file (size %d)",
              offField, off, numField, entField, num, ent, size));
    }
  }

  // ---------------------------------------------------------------- program headers

  private List<ProgramHeader> readProgramHeaders(ElfHeader h)
      throws IOException, MalformedElfException {
    int n = h.programHeaderCount();
    List<ProgramHeader> out = new ArrayList<>(n);
    if (n == 0) {
      return out;
    }
    int ent = h.programHeaderEntrySize();
    ByteBuffer t = source.read(h.programHeaderOffset(), n * ent, order);
    for (int i = 0; i < n; i++) {
      int b = i * ent;
      int type = t.getInt(b);
      int flags;
      long offset;
      long vaddr;
      long paddr;
      long filesz;
      long memsz;
      long align;
      if (is64) {
        flags = t.getInt(b + 4);
        offset = t.getLong(b + 8);
        vaddr = t.getLong(b + 16);
        paddr = t.getLong(b + 24);
        filesz = t.getLong(b + 32);
        if (offset < 0 || filesz < 0) {
          offsetValue("segment " + i + " p_offset", offset);
          offsetValue("segment " + i + " p_filesz", filesz);
        }
        memsz = t.getLong(b + 40);
        align = t.getLong(b + 48);
      } else {
        offset = u32(t, b + 4);
        vaddr = u32(t, b + 8);
        paddr = u32(t, b + 12);
        filesz = u32(t, b + 16);
        memsz = u32(t, b + 20);
        flags = t.getInt(b + 24);
        align = u32(t, b + 28);
      }
      if (!inFile(offset, filesz)) {
        checkRange(
            String.format("segment %d (%s) p_offset 0x%x + p_filesz", i, typeName(type), offset),
            offset,
            filesz);
      }
      if (type == ProgramHeader.PT_LOAD && Long.compareUnsigned(memsz, filesz) < 0) {
        throw new MalformedElfException(
            String.format(
                "segment %d (LOAD) p_memsz 0x%x is smaller than p_filesz 0x%x", i, memsz, filesz));
      }
      if (type == ProgramHeader.PT_LOAD
          && Long.compareUnsigned(vaddr + memsz, vaddr) < 0
          && vaddr + memsz != 0) {
        throw new MalformedElfException(
            String.format(
                "segment %d (LOAD) p_vaddr 0x%x + p_memsz 0x%x wraps around the address space",
                i, vaddr, memsz));
      }
      out.add(new ProgramHeader(i, type, flags, offset, vaddr, paddr, filesz, memsz, align));
    }
    return out;
  }

  private static String typeName(int type) {
    return new ProgramHeader(0, type, 0, 0, 0, 0, 0, 0, 0).typeName();
  }

  // ---------------------------------------------------------------- sections

  private List<Section> readSections(ElfHeader h) throws IOException, MalformedElfException {
    int n = h.sectionHeaderCount();
    List<Section> out = new ArrayList<>(n);
    if (n == 0) {
      return out;
    }
    int ent = h.sectionHeaderEntrySize();
    ByteBuffer t = source.read(h.sectionHeaderOffset(), n * ent, order);
    long[] nameOffsets = new long[n];
    List<Section> raw = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      nameOffsets[i] = u32(t, i * ent);
      raw.add(sectionHeader(t, i, i * ent));
    }
    byte[] names = readSectionNames(h.sectionNameTableIndex(), raw);
    for (int i = 0; i < n; i++) {
      Section s = raw.get(i);
      String name = "";
      if (names != null && (i > 0 || nameOffsets[i] != 0)) {
        name = string(names, nameOffsets[i], "section ", i, " sh_name");
      }
      Section named =
          new Section(
              i,
              name,
              s.type(),
              s.flags(),
              s.address(),
              s.offset(),
              s.size(),
              s.link(),
              s.info(),
              s.addressAlign(),
              s.entrySize());
      checkSectionRange(named, name);
      out.add(named);
    }
    return out;
  }

  /** Section header {@code index} at {@code b} in the table, without its name. */
  private Section sectionHeader(ByteBuffer t, int index, int b) {
    int type = t.getInt(b + 4);
    if (is64) {
      return new Section(
          index,
          "",
          type,
          t.getLong(b + 8),
          t.getLong(b + 16),
          t.getLong(b + 24),
          t.getLong(b + 32),
          t.getInt(b + 40),
          t.getInt(b + 44),
          t.getLong(b + 48),
          t.getLong(b + 56));
    }
    return new Section(
        index,
        "",
        type,
        u32(t, b + 8),
        u32(t, b + 12),
        u32(t, b + 16),
        u32(t, b + 20),
        t.getInt(b + 24),
        t.getInt(b + 28),
        u32(t, b + 32),
        u32(t, b + 36));
  }

  /** The section name table ({@code e_shstrndx}), or null when there is none. */
  private byte[] readSectionNames(int strndx, List<Section> raw)
      throws IOException, MalformedElfException {
    if (strndx == SHN_UNDEF) {
      return null;
    }
    Section st = raw.get(strndx);
    checkSectionRange(st, "");
    if (st.type() != Section.SHT_STRTAB) {
      throw new MalformedElfException(
          "e_shstrndx " + strndx + " names a section of type " + st.typeName() + ", not STRTAB");
    }
    return readTable(
        "section name table (section " + strndx + ")",
        st.offset(),
        st.size(),
        ElfReader.MAX_STRING_TABLE);
  }

  /** File bytes of a section must lie inside the file; section 0 and NOBITS have none. */
  private void checkSectionRange(Section s, String name) throws MalformedElfException {
    // Section 0 normally has type NULL and carries extended counts in its size field; if it
    // claims a type with file bytes, it is held to the same bounds as any other section.
    if (!s.hasFileBytes() || inFile(s.offset(), s.size())) {
      return;
    }
    String what = "section " + s.index() + (name.isEmpty() ? "" : " (" + name + ")");
    offsetValue(what + " sh_offset", s.offset());
    offsetValue(what + " sh_size", s.size());
    checkRange(
        String.format("%s sh_offset 0x%x + sh_size", what, s.offset()), s.offset(), s.size());
  }

  // ---------------------------------------------------------------- interpreter

  private Optional<String> readInterpreter(List<ProgramHeader> segments)
      throws IOException, MalformedElfException {
    for (ProgramHeader p : segments) {
      if (p.type() == ProgramHeader.PT_INTERP) {
        // PATH_MAX bounds any interpreter the kernel would accept.
        if (p.fileSize() == 0 || p.fileSize() > 4096) {
          throw new MalformedElfException(
              "PT_INTERP p_filesz " + p.fileSize() + " is not within 1..4096");
        }
        byte[] b = readTable("PT_INTERP", p.offset(), p.fileSize(), 4096);
        int len = 0;
        while (len < b.length && b[len] != 0) {
          len++;
        }
        if (len == 0) {
          throw new MalformedElfException("PT_INTERP is an empty string");
        }
        // The kernel uses the first PT_INTERP; so do we.
        return Optional.of(new String(b, 0, len, StandardCharsets.UTF_8));
      }
    }
    return Optional.empty();
  }

  // ---------------------------------------------------------------- dynamic section

  private DynamicInfo readDynamic(List<ProgramHeader> segments, List<Section> sections)
      throws IOException, MalformedElfException {
    Section dynSection = null;
    for (Section s : sections) {
      if (s.type() == Section.SHT_DYNAMIC) {
        dynSection = s;
        break;
      }
    }
    List<DynamicEntry> entries = readDynamicEntries(segments, dynSection);
    if (entries.isEmpty()) {
      return DynamicInfo.NONE;
    }
    long flags = lastValue(entries, DynamicEntry.DT_FLAGS, 0);
    long flags1 = lastValue(entries, DynamicEntry.DT_FLAGS_1, 0);
    boolean textrel =
        entries.stream().anyMatch(e -> e.tag() == DynamicEntry.DT_TEXTREL)
            || (flags & DynamicEntry.DF_TEXTREL) != 0;
    DynamicStrings strings = readDynamicStrings(entries, segments, sections, dynSection);
    return namedEntries(entries, strings, textrel, flags, flags1);
  }

  /**
   * The entries up to DT_NULL of the first PT_DYNAMIC, else of the SHT_DYNAMIC section; none when
   * there is neither.
   */
  private List<DynamicEntry> readDynamicEntries(List<ProgramHeader> segments, Section dynSection)
      throws IOException, MalformedElfException {
    long off = -1;
    long len = 0;
    String where = null;
    for (ProgramHeader p : segments) {
      if (p.type() == ProgramHeader.PT_DYNAMIC) {
        off = p.offset();
        len = p.fileSize();
        where = "PT_DYNAMIC (segment " + p.index() + ")";
        break;
      }
    }
    if (off < 0 && dynSection != null) {
      off = dynSection.offset();
      len = dynSection.size();
      where = "section " + dynSection.index() + " (" + dynSection.name() + ")";
    }
    if (off < 0) {
      return List.of();
    }
    int entSize = is64 ? 16 : 8;
    long count = Math.min(len / entSize, ElfReader.MAX_DYNAMIC_ENTRIES);
    if (len / entSize > ElfReader.MAX_DYNAMIC_ENTRIES) {
      throw new MalformedElfException(
          where
              + " holds "
              + (len / entSize)
              + " entries, more than the limit of "
              + ElfReader.MAX_DYNAMIC_ENTRIES);
    }
    ByteBuffer d = source.read(off, (int) (count * entSize), order);
    List<DynamicEntry> entries = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      long tag = is64 ? d.getLong(i * 16) : d.getInt(i * 8);
      long val = is64 ? d.getLong(i * 16 + 8) : u32(d, i * 8 + 4);
      if (tag == DynamicEntry.DT_NULL) {
        break;
      }
      entries.add(new DynamicEntry(tag, val));
    }
    return entries;
  }

  /** The value of the last entry with {@code tag}, or {@code absent}. */
  private static long lastValue(List<DynamicEntry> entries, long tag, long absent) {
    long value = absent;
    for (DynamicEntry e : entries) {
      if (e.tag() == tag) {
        value = e.value();
      }
    }
    return value;
  }

  /**
   * The dynamic string table and where it was found; {@code bytes} null when it cannot be located.
   */
  private record DynamicStrings(byte[] bytes, String where) {}

  /** By DT_STRTAB and DT_STRSZ, else by the dynamic section's {@code sh_link}. */
  private DynamicStrings readDynamicStrings(
      List<DynamicEntry> entries,
      List<ProgramHeader> segments,
      List<Section> sections,
      Section dynSection)
      throws IOException, MalformedElfException {
    long strtabAddr = lastValue(entries, DynamicEntry.DT_STRTAB, -1);
    long strsz = lastValue(entries, DynamicEntry.DT_STRSZ, -1);
    if (strtabAddr != -1 && strsz >= 0) {
      long strOff = addressToOffset(segments, strtabAddr);
      if (strOff >= 0) {
        String strWhere = String.format("DT_STRTAB 0x%x (file offset 0x%x)", strtabAddr, strOff);
        if (strsz > ElfReader.MAX_STRING_TABLE) {
          throw new MalformedElfException(
              "DT_STRSZ "
                  + Long.toUnsignedString(strsz)
                  + " exceeds the limit of "
                  + ElfReader.MAX_STRING_TABLE);
        }
        checkRange(strWhere + " + DT_STRSZ", strOff, strsz);
        return new DynamicStrings(
            readTable(strWhere, strOff, strsz, ElfReader.MAX_STRING_TABLE), strWhere);
      }
    }
    if (dynSection != null) {
      int link = dynSection.link();
      if (link > 0 && link < sections.size() && sections.get(link).type() == Section.SHT_STRTAB) {
        Section s = sections.get(link);
        String strWhere = "section " + link + " (" + s.name() + ")";
        return new DynamicStrings(
            readTable(strWhere, s.offset(), s.size(), ElfReader.MAX_STRING_TABLE), strWhere);
      }
    }
    return new DynamicStrings(null, null);
  }

  /** DT_NEEDED, DT_SONAME, DT_RPATH and DT_RUNPATH, read from the dynamic string table. */
  private DynamicInfo namedEntries(
      List<DynamicEntry> entries, DynamicStrings strings, boolean textrel, long flags, long flags1)
      throws MalformedElfException {
    List<String> needed = new ArrayList<>();
    Optional<String> soname = Optional.empty();
    List<String> rpath = new ArrayList<>();
    List<String> runpath = new ArrayList<>();
    for (DynamicEntry e : entries) {
      long tag = e.tag();
      if (tag != DynamicEntry.DT_NEEDED
          && tag != DynamicEntry.DT_SONAME
          && tag != DynamicEntry.DT_RPATH
          && tag != DynamicEntry.DT_RUNPATH) {
        continue;
      }
      if (strings.bytes() == null) {
        throw new MalformedElfException(
            "DT_" + e.tagName() + " present but the dynamic string table cannot be located");
      }
      String value =
          string(
              strings.bytes(), e.value(), "DT_" + e.tagName() + " in " + strings.where(), -1, "");
      if (tag == DynamicEntry.DT_NEEDED) {
        needed.add(value);
      } else if (tag == DynamicEntry.DT_SONAME) {
        soname = Optional.of(value);
      } else if (tag == DynamicEntry.DT_RPATH) {
        rpath.addAll(splitPath(value));
      } else {
        runpath.addAll(splitPath(value));
      }
    }
    return new DynamicInfo(entries, needed, soname, rpath, runpath, textrel, flags, flags1);
  }

  private static List<String> splitPath(String value) {
    List<String> out = new ArrayList<>();
    for (String part : value.split(":", -1)) {
      if (!part.isEmpty()) {
        out.add(part);
      }
    }
    return out;
  }

  /** The file offset mapped at {@code vaddr} by a PT_LOAD, or -1. */
  private static long addressToOffset(List<ProgramHeader> segments, long vaddr) {
    for (ProgramHeader p : segments) {
      if (p.isLoad() && Long.compareUnsigned(vaddr, p.virtualAddress()) >= 0) {
        long delta = vaddr - p.virtualAddress();
        if (Long.compareUnsigned(delta, p.fileSize()) < 0) {
          return p.offset() + delta; // p.offset + p.fileSize was checked to fit the file
        }
      }
    }
    return -1;
  }

  // ---------------------------------------------------------------- notes

  private Optional<String> readBuildId(List<ProgramHeader> segments, List<Section> sections)
      throws IOException, MalformedElfException {
    // The loader's view first; then the sections, since a linker may leave the GNU note outside
    // every PT_NOTE (Go binaries cover only .note.go.buildid), where readelf still finds it.
    for (ProgramHeader p : segments) {
      if (p.type() == ProgramHeader.PT_NOTE) {
        Optional<String> id =
            scanNotes("segment " + p.index() + " (NOTE)", p.offset(), p.fileSize(), p.align());
        if (id.isPresent()) {
          return id;
        }
      }
    }
    for (Section s : sections) {
      if (s.type() == Section.SHT_NOTE) {
        Optional<String> id =
            scanNotes(
                "section " + s.index() + " (" + s.name() + ")",
                s.offset(),
                s.size(),
                s.addressAlign());
        if (id.isPresent()) {
          return id;
        }
      }
    }
    return Optional.empty();
  }

  private Optional<String> scanNotes(String where, long off, long len, long align)
      throws IOException, MalformedElfException {
    if (len > ElfReader.MAX_NOTES) {
      throw new MalformedElfException(
          where + " size " + len + " exceeds the note limit of " + ElfReader.MAX_NOTES);
    }
    byte[] notes = readTable(where, off, len, ElfReader.MAX_NOTES);
    ByteBuffer b = ByteBuffer.wrap(notes).order(order);
    // gABI says 4-byte padding; GNU property notes in 8-aligned segments pad to 8.
    int pad = align == 8 ? 8 : 4;
    long pos = 0;
    while (pos + 12 <= notes.length) {
      long namesz = u32(b, (int) pos);
      long descsz = u32(b, (int) pos + 4);
      long type = u32(b, (int) pos + 8);
      long nameStart = pos + 12;
      // Padding aligns offsets from the start of the note area, not the field sizes.
      long descStart = pos + roundUp(12 + namesz, pad);
      long next = roundUp(descStart + descsz, pad);
      if (descStart + descsz > notes.length || nameStart + namesz > notes.length) {
        throw new MalformedElfException(
            String.format(
                "%s: note at +0x%x with namesz %d, descsz %d runs past the end (%d bytes)",
                where, pos, namesz, descsz, notes.length));
      }
      if (type == NT_GNU_BUILD_ID
          && namesz == 4
          && notes[(int) nameStart] == 'G'
          && notes[(int) nameStart + 1] == 'N'
          && notes[(int) nameStart + 2] == 'U'
          && notes[(int) nameStart + 3] == 0) {
        if (descsz == 0 || descsz > MAX_BUILD_ID) {
          throw new MalformedElfException(
              where + ": NT_GNU_BUILD_ID of " + descsz + " bytes is not within 1.." + MAX_BUILD_ID);
        }
        byte[] id = new byte[(int) descsz];
        System.arraycopy(notes, (int) descStart, id, 0, id.length);
        return Optional.of(Sha256.hex(id));
      }
      pos = next; // next > pos: every iteration consumes at least 12 bytes
    }
    return Optional.empty();
  }

  private static long roundUp(long v, int pad) {
    return (v + pad - 1) & -pad; // v < 2^34: no overflow
  }

  // ---------------------------------------------------------------- symbols

  private List<ElfSymbol> readSymbols(List<Section> sections)
      throws IOException, MalformedElfException {
    List<ElfSymbol> out = new ArrayList<>();
    for (int pass = 0; pass < 2; pass++) {
      int wanted = pass == 0 ? Section.SHT_SYMTAB : Section.SHT_DYNSYM;
      for (Section s : sections) {
        if (s.type() == wanted) {
          readSymbolTable(s, sections, out);
        }
      }
    }
    return out;
  }

  private void readSymbolTable(Section table, List<Section> sections, List<ElfSymbol> out)
      throws IOException, MalformedElfException {
    String where = "section " + table.index() + " (" + table.name() + ")";
    int ent = is64 ? 24 : 16;
    if (table.entrySize() != ent) {
      throw new MalformedElfException(
          where + " sh_entsize " + table.entrySize() + " is not " + ent);
    }
    long count = table.size() / ent;
    if (count + out.size() > ElfReader.MAX_SYMBOLS) {
      throw new MalformedElfException(
          where
              + " holds "
              + count
              + " symbols; with "
              + out.size()
              + " already read that exceeds the limit of "
              + ElfReader.MAX_SYMBOLS);
    }
    byte[] names = readSymbolNames(table, sections, where);
    boolean dynamic = table.type() == Section.SHT_DYNSYM;
    int perChunk = SYMBOL_CHUNK / ent;
    String symbolWhat = where + " symbol ";
    for (long first = 1; first < count; first += perChunk) {
      int n = (int) Math.min(perChunk, count - first);
      ByteBuffer b = source.read(table.offset() + first * ent, n * ent, order);
      for (int i = 0; i < n; i++) {
        int o = i * ent;
        long nameOff = u32(b, o);
        long value;
        long sz;
        int info;
        int shndx;
        if (is64) {
          info = b.get(o + 4) & 0xff;
          shndx = u16(b, o + 6);
          value = b.getLong(o + 8);
          sz = b.getLong(o + 16);
        } else {
          value = u32(b, o + 4);
          sz = u32(b, o + 8);
          info = b.get(o + 12) & 0xff;
          shndx = u16(b, o + 14);
        }
        String name = string(names, nameOff, symbolWhat, first + i, " st_name");
        out.add(new ElfSymbol(name, value, sz, info & 0xf, info >>> 4, shndx, dynamic));
      }
    }
  }

  /** The string table a symbol table's {@code sh_link} names. */
  private byte[] readSymbolNames(Section table, List<Section> sections, String where)
      throws IOException, MalformedElfException {
    int link = table.link();
    if (link <= 0 || link >= sections.size() || sections.get(link).type() != Section.SHT_STRTAB) {
      throw new MalformedElfException(
          where + " sh_link " + Integer.toUnsignedString(link) + " is not a string table");
    }
    Section strtab = sections.get(link);
    return readTable(
        "section " + link + " (" + strtab.name() + ")",
        strtab.offset(),
        strtab.size(),
        ElfReader.MAX_STRING_TABLE);
  }

  // ---------------------------------------------------------------- section digests

  private Map<String, String> digestSections(List<Section> sections)
      throws IOException, MalformedElfException {
    Map<String, String> out = new LinkedHashMap<>();
    MessageDigest md = Sha256.newDigest();
    for (Section s : sections) {
      if (!s.isAlloc() || !s.hasFileBytes() || s.index() == 0) {
        continue;
      }
      source.digest(s.offset(), s.size(), md);
      String key = s.name();
      if (key.isEmpty() || out.containsKey(key)) {
        key = key + "#" + s.index();
      }
      out.put(key, Sha256.hex(md.digest()));
    }
    return out;
  }

  // ---------------------------------------------------------------- primitives

  private static int u16(ByteBuffer b, int at) {
    return b.getShort(at) & 0xffff;
  }

  private static long u32(ByteBuffer b, int at) {
    return b.getInt(at) & 0xffffffffL;
  }

  /** An unsigned 64-bit offset or size must fit a signed long to be inside any file. */
  private long offsetValue(String field, long value) throws MalformedElfException {
    if (value < 0) {
      throw new MalformedElfException(
          String.format(
              "%s 0x%s past end of file (size %d)", field, Long.toUnsignedString(value, 16), size));
    }
    return value;
  }

  /**
   * Whether {@code [offset, offset + length)} lies inside the file: {@link #checkRange}'s test
   * without its message, which callers build only for a file that fails it (a message per section
   * and segment was most of what verifying a binary allocated).
   */
  private boolean inFile(long offset, long length) {
    return offset >= 0 && length >= 0 && length <= size - offset;
  }

  /** {@code [offset, offset + length)} must lie inside the file. */
  private void checkRange(String what, long offset, long length) throws MalformedElfException {
    if (offset < 0 || length < 0) {
      throw new MalformedElfException(
          String.format(
              "%s: offset 0x%s or length 0x%s is negative",
              what, Long.toUnsignedString(offset, 16), Long.toUnsignedString(length, 16)));
    }
    long end;
    try {
      end = Math.addExact(offset, length);
    } catch (ArithmeticException e) {
      throw new MalformedElfException(
          String.format("%s: 0x%x + 0x%x overflows", what, offset, length));
    }
    if (end > size) {
      throw new MalformedElfException(
          String.format("%s 0x%x: end 0x%x past end of file (size %d)", what, length, end, size));
    }
  }

  /** Reads a whole table after checking that it fits the file and {@code limit}. */
  private byte[] readTable(String what, long offset, long length, int limit)
      throws IOException, MalformedElfException {
    if (length > limit) {
      throw new MalformedElfException(
          what + " size " + length + " exceeds the limit of " + limit + " bytes");
    }
    checkRange(what, offset, length);
    ByteBuffer b = source.read(offset, (int) length, order);
    return b.array();
  }

  /**
   * The NUL-terminated string at {@code offset} in {@code table}. Strings in a table may overlap,
   * so per-string and per-table limits alone would not bound memory: every string materialised is
   * charged to one budget per file. The caller's description is only assembled on error, because
   * this runs once per symbol.
   */
  private String string(byte[] table, long offset, String what, long index, String field)
      throws MalformedElfException {
    if (offset < 0 || offset >= table.length) {
      throw new MalformedElfException(
          String.format(
              "%s offset %d is outside its string table (%d bytes)",
              describe(what, index, field), offset, table.length));
    }
    int start = (int) offset;
    int max = (int) Math.min(table.length, (long) start + ElfReader.MAX_NAME + 1);
    for (int i = start; i < max; i++) {
      if (table[i] == 0) {
        int length = i - start;
        nameBudget -= length;
        if (nameBudget < 0) {
          throw new MalformedElfException(
              String.format(
                  "%s: names read from this file exceed the limit of %d bytes in total",
                  describe(what, index, field), ElfReader.MAX_NAME_BYTES_TOTAL));
        }
        return length == 0 ? "" : new String(table, start, length, StandardCharsets.UTF_8);
      }
    }
    if (max == table.length) {
      throw new MalformedElfException(
          String.format(
              "%s at offset %d is not NUL-terminated within its string table (%d bytes)",
              describe(what, index, field), offset, table.length));
    }
    throw new MalformedElfException(
        String.format(
            "%s at offset %d is longer than the limit of %d bytes",
            describe(what, index, field), offset, ElfReader.MAX_NAME));
  }

  private static String describe(String what, long index, String field) {
    return index < 0 ? what + field : what + index + field;
  }
}
