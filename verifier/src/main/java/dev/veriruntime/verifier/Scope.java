package dev.veriruntime.verifier;

/**
 * A part of "is this the code we intended to run?" that can be checked on its own. A verdict is
 * {@link Verdict#VERIFIED} only when every scope that policy intends was checked and passed.
 */
public enum Scope {
  /** SHA-256 of the executed file matches a trusted reference. */
  DISK_HASH,
  /** ELF file header and program headers are well formed and sane for this host. */
  ELF_HEADER,
  /** Section-header table is sane and per-section digests match the reference. */
  ELF_SECTIONS,
  /** Every executable mapping of a process is a verified file within the expected set. */
  MEMORY_MAP,
  /** Code bytes in memory equal the file's bytes at the same offsets. */
  MEMORY_CODE,
  /** The reference that vouched for the binary came from a signature-verified source. */
  SIGNATURE,
  /**
   * Build lineage: the file was written by verified toolchain processes (compiler, assembler,
   * linker) inside a configured lineage root and by nothing else since (its kernel identity is the
   * one recorded when the writer finished). The reason names the chain of processes. Lineage
   * answers only "no reference knows this file": it never makes {@link #DISK_HASH} or {@link
   * #SIGNATURE} verified and never stands in for a signature (see {@link Verdict#decideByLineage}).
   */
  LINEAGE
}
