package dev.veriruntime.verifier.elf;

/**
 * One entry of the dynamic section ({@code Elf64_Dyn}), tag and value as read.
 *
 * @param tag {@code d_tag}; the reader stops at the first {@link #DT_NULL}
 * @param value {@code d_val} / {@code d_ptr}, raw unsigned
 */
public record DynamicEntry(long tag, long value) {
  public static final long DT_NULL = 0;
  public static final long DT_NEEDED = 1;
  public static final long DT_STRTAB = 5;
  public static final long DT_STRSZ = 10;
  public static final long DT_SONAME = 14;
  public static final long DT_RPATH = 15;
  public static final long DT_TEXTREL = 22;
  public static final long DT_FLAGS = 30;
  public static final long DT_RUNPATH = 29;
  public static final long DT_FLAGS_1 = 0x6ffffffbL;

  /** {@code DF_TEXTREL} in {@link #DT_FLAGS}. */
  public static final long DF_TEXTREL = 0x4;

  /** {@code DF_BIND_NOW} in {@link #DT_FLAGS}. */
  public static final long DF_BIND_NOW = 0x8;

  /** {@code DF_1_NOW} in {@link #DT_FLAGS_1}. */
  public static final long DF_1_NOW = 0x1;

  /** {@code DF_1_PIE} in {@link #DT_FLAGS_1}. */
  public static final long DF_1_PIE = 0x08000000L;

  /** The tag as readelf names it ({@code NEEDED}, {@code FLAGS_1}...), else hex. */
  public String tagName() {
    if (tag == DT_NULL) return "NULL";
    if (tag == DT_NEEDED) return "NEEDED";
    if (tag == 2) return "PLTRELSZ";
    if (tag == 3) return "PLTGOT";
    if (tag == 4) return "HASH";
    if (tag == DT_STRTAB) return "STRTAB";
    if (tag == 6) return "SYMTAB";
    if (tag == 7) return "RELA";
    if (tag == 8) return "RELASZ";
    if (tag == 9) return "RELAENT";
    if (tag == DT_STRSZ) return "STRSZ";
    if (tag == 11) return "SYMENT";
    if (tag == 12) return "INIT";
    if (tag == 13) return "FINI";
    if (tag == DT_SONAME) return "SONAME";
    if (tag == DT_RPATH) return "RPATH";
    if (tag == 16) return "SYMBOLIC";
    if (tag == 17) return "REL";
    if (tag == 18) return "RELSZ";
    if (tag == 19) return "RELENT";
    if (tag == 20) return "PLTREL";
    if (tag == 21) return "DEBUG";
    if (tag == DT_TEXTREL) return "TEXTREL";
    if (tag == 23) return "JMPREL";
    if (tag == 24) return "BIND_NOW";
    if (tag == 25) return "INIT_ARRAY";
    if (tag == 26) return "FINI_ARRAY";
    if (tag == 27) return "INIT_ARRAYSZ";
    if (tag == 28) return "FINI_ARRAYSZ";
    if (tag == DT_RUNPATH) return "RUNPATH";
    if (tag == DT_FLAGS) return "FLAGS";
    if (tag == 0x6ffffef5L) return "GNU_HASH";
    if (tag == 0x6ffffff0L) return "VERSYM";
    if (tag == 0x6ffffff9L) return "RELACOUNT";
    if (tag == 0x6ffffffaL) return "RELCOUNT";
    if (tag == DT_FLAGS_1) return "FLAGS_1";
    if (tag == 0x6ffffffcL) return "VERDEF";
    if (tag == 0x6ffffffdL) return "VERDEFNUM";
    if (tag == 0x6ffffffeL) return "VERNEED";
    if (tag == 0x6fffffffL) return "VERNEEDNUM";
    return "0x" + Long.toHexString(tag);
  }
}
