package dev.veriruntime.verifier.elf;

/**
 * The input is not a well-formed ELF file, or exceeds the reader's limits. The message names the
 * field, its value and the bound it broke (for example {@code "e_shoff 0x1000 + e_shnum*e_shentsize
 * (64*64) past end of file (size 2048)"}), so that it can be shown to an operator as it is.
 *
 * <p>This is the only exception {@link ElfReader} throws for bad bytes; I/O failures of the
 * underlying file are reported separately as {@link java.io.IOException}.
 */
public final class MalformedElfException extends Exception {
  private static final long serialVersionUID = 1L;

  public MalformedElfException(String reason) {
    super(reason);
  }
}
