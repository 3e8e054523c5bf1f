package dev.veriruntime.verifier.elf;

/**
 * One section header with its resolved name. For sections that occupy file space (every type but
 * {@link #SHT_NOBITS}) the reader has checked that {@code offset + size} is inside the file.
 *
 * @param index position in the section-header table (0 is the null section)
 */
public record Section(
    int index,
    String name,
    int type,
    long flags,
    long address,
    long offset,
    long size,
    int link,
    int info,
    long addressAlign,
    long entrySize) {

  public static final int SHT_NULL = 0;
  public static final int SHT_PROGBITS = 1;
  public static final int SHT_SYMTAB = 2;
  public static final int SHT_STRTAB = 3;
  public static final int SHT_RELA = 4;
  public static final int SHT_HASH = 5;
  public static final int SHT_DYNAMIC = 6;
  public static final int SHT_NOTE = 7;
  public static final int SHT_NOBITS = 8;
  public static final int SHT_REL = 9;
  public static final int SHT_DYNSYM = 11;
  public static final int SHT_INIT_ARRAY = 14;
  public static final int SHT_FINI_ARRAY = 15;
  public static final int SHT_GROUP = 17;
  public static final int SHT_SYMTAB_SHNDX = 18;

  public static final long SHF_WRITE = 0x1;
  public static final long SHF_ALLOC = 0x2;
  public static final long SHF_EXECINSTR = 0x4;

  public boolean isAlloc() {
    return (flags & SHF_ALLOC) != 0;
  }

  public boolean isExecutable() {
    return (flags & SHF_EXECINSTR) != 0;
  }

  /** True when the section occupies bytes in the file ({@code SHT_NOBITS} and null do not). */
  public boolean hasFileBytes() {
    return type != SHT_NOBITS && type != SHT_NULL;
  }

  public boolean containsOffset(long fileOffset) {
    return hasFileBytes() && fileOffset >= offset && fileOffset - offset < size;
  }

  public boolean containsAddress(long vaddr) {
    return isAlloc()
        && Long.compareUnsigned(vaddr, address) >= 0
        && Long.compareUnsigned(vaddr - address, size) < 0;
  }

  /** The type as readelf names it ({@code PROGBITS}, {@code NOBITS}...), else hex. */
  public String typeName() {
    return switch (type) {
      case SHT_NULL -> "NULL";
      case SHT_PROGBITS -> "PROGBITS";
      case SHT_SYMTAB -> "SYMTAB";
      case SHT_STRTAB -> "STRTAB";
      case SHT_RELA -> "RELA";
      case SHT_HASH -> "HASH";
      case SHT_DYNAMIC -> "DYNAMIC";
      case SHT_NOTE -> "NOTE";
      case SHT_NOBITS -> "NOBITS";
      case SHT_REL -> "REL";
      case 10 -> "SHLIB";
      case SHT_DYNSYM -> "DYNSYM";
      case SHT_INIT_ARRAY -> "INIT_ARRAY";
      case SHT_FINI_ARRAY -> "FINI_ARRAY";
      case 16 -> "PREINIT_ARRAY";
      case SHT_GROUP -> "GROUP";
      case SHT_SYMTAB_SHNDX -> "SYMTAB SECTION INDICES";
      case 19 -> "RELR";
      case 0x6ffffff6 -> "GNU_HASH";
      case 0x6ffffffd -> "VERDEF";
      case 0x6ffffffe -> "VERNEED";
      case 0x6fffffff -> "VERSYM";
      case 0x6ffffff5 -> "GNU_ATTRIBUTES";
      case 0x6ffffffa -> "SUNW_move";
      case 0x6ffffffc -> "SUNW_syminfo";
      case 0x6ffffff7 -> "GNU_LIBLIST";
      case 0x6fff4c00 -> "LLVM_ODRTAB";
      default -> "0x" + Integer.toHexString(type);
    };
  }
}
