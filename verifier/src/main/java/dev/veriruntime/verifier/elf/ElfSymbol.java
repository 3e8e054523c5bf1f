package dev.veriruntime.verifier.elf;

/**
 * One symbol from {@code .symtab} or {@code .dynsym}.
 *
 * @param value {@code st_value}: a virtual address for symbols in executables and shared objects
 * @param sectionIndex {@code st_shndx} (0 = undefined, 0xfff1 = absolute...)
 * @param dynamic true when it came from {@code .dynsym}
 */
public record ElfSymbol(
    String name, long value, long size, int type, int binding, int sectionIndex, boolean dynamic) {

  public static final int STT_NOTYPE = 0;
  public static final int STT_OBJECT = 1;
  public static final int STT_FUNC = 2;
  public static final int STT_SECTION = 3;
  public static final int STT_FILE = 4;
  public static final int STT_TLS = 6;
  public static final int STT_GNU_IFUNC = 10;

  public static final int SHN_UNDEF = 0;

  /** True when {@code address} is in {@code [value, value + size)}. */
  public boolean contains(long address) {
    return Long.compareUnsigned(address, value) >= 0
        && Long.compareUnsigned(address - value, size) < 0;
  }
}
