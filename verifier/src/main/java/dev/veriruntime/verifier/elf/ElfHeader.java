package dev.veriruntime.verifier.elf;

import java.nio.ByteOrder;

/**
 * The ELF file header ({@code Elf32_Ehdr} / {@code Elf64_Ehdr}) as read, after the extended
 * numbering of {@code e_shnum}, {@code e_shstrndx} and {@code e_phnum} has been resolved. Unsigned
 * fields wider than 32 bits are kept as raw {@code long}s (compare addresses with {@link
 * Long#compareUnsigned}); offsets have already been checked to be non-negative and inside the file.
 *
 * @param elfClass {@link #ELFCLASS32} or {@link #ELFCLASS64}
 * @param byteOrder from {@code EI_DATA}
 */
public record ElfHeader(
    int elfClass,
    ByteOrder byteOrder,
    int osAbi,
    int abiVersion,
    int type,
    int machine,
    long version,
    long entry,
    long programHeaderOffset,
    long sectionHeaderOffset,
    int flags,
    int headerSize,
    int programHeaderEntrySize,
    int programHeaderCount,
    int sectionHeaderEntrySize,
    int sectionHeaderCount,
    int sectionNameTableIndex) {

  public static final int ELFCLASS32 = 1;
  public static final int ELFCLASS64 = 2;

  public static final int ET_NONE = 0;
  public static final int ET_REL = 1;
  public static final int ET_EXEC = 2;
  public static final int ET_DYN = 3;
  public static final int ET_CORE = 4;

  public static final int EM_386 = 3;
  public static final int EM_ARM = 40;
  public static final int EM_X86_64 = 62;
  public static final int EM_AARCH64 = 183;
  public static final int EM_RISCV = 243;

  public boolean is64Bit() {
    return elfClass == ELFCLASS64;
  }

  /** {@code "ELF64"} or {@code "ELF32"}. */
  public String className() {
    return is64Bit() ? "ELF64" : "ELF32";
  }

  /** {@code "EXEC"}, {@code "DYN"}... as readelf prints it, or the number. */
  public String typeName() {
    return switch (type) {
      case ET_NONE -> "NONE";
      case ET_REL -> "REL";
      case ET_EXEC -> "EXEC";
      case ET_DYN -> "DYN";
      case ET_CORE -> "CORE";
      default -> "0x" + Integer.toHexString(type);
    };
  }

  /** A short machine name such as {@code "x86_64"} or {@code "aarch64"}, or the number. */
  public String machineName() {
    return machineName(machine);
  }

  public static String machineName(int machine) {
    return switch (machine) {
      case EM_386 -> "i386";
      case EM_ARM -> "arm";
      case EM_X86_64 -> "x86_64";
      case EM_AARCH64 -> "aarch64";
      case EM_RISCV -> "riscv";
      default -> "machine " + machine;
    };
  }

  /**
   * The {@code e_machine} this JVM runs on, from {@code os.arch}, or -1 when the architecture is
   * not one VeriRuntime knows.
   */
  public static int hostMachine() {
    return machineForArch(System.getProperty("os.arch", ""));
  }

  static int machineForArch(String osArch) {
    return switch (osArch) {
      case "amd64", "x86_64" -> EM_X86_64;
      case "aarch64", "arm64" -> EM_AARCH64;
      case "x86", "i386", "i486", "i586", "i686" -> EM_386;
      case "arm" -> EM_ARM;
      case "riscv64" -> EM_RISCV;
      default -> -1;
    };
  }
}
