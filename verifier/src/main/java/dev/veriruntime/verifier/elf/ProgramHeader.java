package dev.veriruntime.verifier.elf;

/**
 * One program header (segment). Offsets and sizes are non-negative; {@code offset + fileSize} is
 * inside the file for every segment the reader accepted. Addresses are raw unsigned values.
 *
 * @param index position in the program-header table
 */
public record ProgramHeader(
    int index,
    int type,
    int flags,
    long offset,
    long virtualAddress,
    long physicalAddress,
    long fileSize,
    long memorySize,
    long align) {

  public static final int PT_NULL = 0;
  public static final int PT_LOAD = 1;
  public static final int PT_DYNAMIC = 2;
  public static final int PT_INTERP = 3;
  public static final int PT_NOTE = 4;
  public static final int PT_SHLIB = 5;
  public static final int PT_PHDR = 6;
  public static final int PT_TLS = 7;
  public static final int PT_GNU_EH_FRAME = 0x6474e550;
  public static final int PT_GNU_STACK = 0x6474e551;
  public static final int PT_GNU_RELRO = 0x6474e552;
  public static final int PT_GNU_PROPERTY = 0x6474e553;

  public static final int PF_X = 1;
  public static final int PF_W = 2;
  public static final int PF_R = 4;

  public boolean isLoad() {
    return type == PT_LOAD;
  }

  public boolean isExecutable() {
    return (flags & PF_X) != 0;
  }

  public boolean isWritable() {
    return (flags & PF_W) != 0;
  }

  public boolean isReadable() {
    return (flags & PF_R) != 0;
  }

  /** True when {@code fileOffset} lies in {@code [offset, offset + fileSize)}. */
  public boolean containsOffset(long fileOffset) {
    return fileOffset >= offset && fileOffset - offset < fileSize;
  }

  /** True when {@code address} lies in {@code [virtualAddress, virtualAddress + memorySize)}. */
  public boolean containsAddress(long address) {
    return Long.compareUnsigned(address, virtualAddress) >= 0
        && Long.compareUnsigned(address - virtualAddress, memorySize) < 0;
  }

  /** The type as readelf names it ({@code LOAD}, {@code GNU_STACK}...), else hex. */
  public String typeName() {
    return switch (type) {
      case PT_NULL -> "NULL";
      case PT_LOAD -> "LOAD";
      case PT_DYNAMIC -> "DYNAMIC";
      case PT_INTERP -> "INTERP";
      case PT_NOTE -> "NOTE";
      case PT_SHLIB -> "SHLIB";
      case PT_PHDR -> "PHDR";
      case PT_TLS -> "TLS";
      case PT_GNU_EH_FRAME -> "GNU_EH_FRAME";
      case PT_GNU_STACK -> "GNU_STACK";
      case PT_GNU_RELRO -> "GNU_RELRO";
      case PT_GNU_PROPERTY -> "GNU_PROPERTY";
      default -> "0x" + Integer.toHexString(type);
    };
  }

  /** Flags as readelf prints them: {@code "R E"}, {@code "RW "}... */
  public String flagString() {
    return (isReadable() ? "R" : " ") + (isWritable() ? "W" : " ") + (isExecutable() ? "E" : " ");
  }
}
